/*
 * Logging: one line per event to stderr, "<time> <level> <module>: <text>".
 * The level is checked before anything is formatted. Library-style modules
 * (http, auth, ledger, state) do not log; the daemon does.
 */
#ifndef OWS_COMMON_LOG_H
#define OWS_COMMON_LOG_H

enum ows_log_level { OWS_LOG_ERROR, OWS_LOG_WARN, OWS_LOG_INFO, OWS_LOG_DEBUG };

extern enum ows_log_level ows_log_threshold;

void ows_log_write(enum ows_log_level level, const char *module,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Parse "error", "warn", "info", "debug": the enum ows_log_level, or -EINVAL
 * on anything else.
 */
int ows_log_level_parse(const char *s);

#define ows_log(level, module, ...)                                   \
	do {                                                          \
		if ((level) <= ows_log_threshold)                     \
			ows_log_write((level), (module), __VA_ARGS__); \
	} while (0)

#endif
