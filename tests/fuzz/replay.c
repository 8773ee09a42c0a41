/*
 * Replay main shared by every fuzz target: `fuzz_X DIR...` feeds each file
 * of each directory to LLVMFuzzerTestOneInput once, so that `make check`
 * runs the corpus with the sanitizers of the build (crun, h2o).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_dir(const char *dir)
{
	struct dirent *de;
	char path[4096];
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: cannot open '%s'\n", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct ows_buf b = OWS_BUF_INIT;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (ows_file_read(path, 16 * 1024 * 1024, &b) == 0) {
			LLVMFuzzerTestOneInput((const uint8_t *)b.data, b.len);
			n++;
		}
		ows_buf_free(&b);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		int n = replay_dir(argv[i]);

		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %d inputs\n", total);
	return total > 0 ? 0 : 1;
}
