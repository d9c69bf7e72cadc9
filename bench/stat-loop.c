/* stat-loop: per-syscall cost micro-benchmark for bench/run.sh.
 *
 *   stat-loop [N] [PATH]     (defaults: 200000, /usr/include/stdio.h)
 *
 * Times N stat(PATH) calls, then N fstat(fd) calls on PATH opened once, with
 * CLOCK_MONOTONIC around each loop (process start-up and the tracer's attach
 * are outside the timed regions). Prints one line per loop:
 *
 *   stat  N <total ns> <ns per call>
 *   fstat N <total ns> <ns per call>
 *
 * glibc >= 2.33 implements stat() as newfstatat(AT_FDCWD, path, buf, 0) and
 * fstat() as newfstatat(fd, "", buf, AT_EMPTY_PATH) on x86-64, so under a
 * seccomp filter that traps newfstatat both loops stop in the tracer.
 * The per-call overhead of a runner is (runner ns/call - native ns/call).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	const char *path = argc > 2 ? argv[2] : "/usr/include/stdio.h";
	struct stat st;
	long long t0, t1;
	long i;
	int fd;

	if (n <= 0) {
		fprintf(stderr, "stat-loop: bad N\n");
		return 2;
	}
	if (stat(path, &st) != 0) { /* also warms the tracer's caches, untimed */
		perror(path);
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (stat(path, &st) != 0) {
			perror("stat");
			return 1;
		}
	t1 = now_ns();
	printf("stat %ld %lld %.1f\n", n, t1 - t0, (double)(t1 - t0) / n);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (fstat(fd, &st) != 0) {
		perror("fstat");
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (fstat(fd, &st) != 0) {
			perror("fstat");
			return 1;
		}
	t1 = now_ns();
	printf("fstat %ld %lld %.1f\n", n, t1 - t0, (double)(t1 - t0) / n);
	close(fd);
	return 0;
}
