/*
 * ows-sandbox: the function sandbox launcher on its own (fn/sandbox.h).
 * The node spawns it for every new function instance, so it is kept
 * small: it links only the sandbox code, jansson and libseccomp, and starts
 * in a fraction of the time of the whole owsd (which also offers the same
 * launcher as `owsd sandbox-exec`).
 */
#include "fn/sandbox.h"

int main(int argc, char **argv)
{
	return ows_sandbox_main(argc, argv);
}
