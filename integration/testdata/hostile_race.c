// hostile_race: races the tracer for argv[3] seconds, trying to make the
// kernel write into host directory H (argv[2]) while vroot checked a path
// in the granted build tree (the cwd). Modes:
//   buffer: a second thread rewrites the path string between "ok" and
//           "H/escaped-buffer" while the main thread creates it;
//   swap:   a second thread swaps "d" between a real directory and a
//           symlink to H while the main thread creates "d/escaped-swap".
// It prints how many creates succeeded and how many were refused.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buf[4096];
static char bad[4096];
static atomic_int stop;

static void *flip_buffer(void *arg) {
	(void)arg;
	while (!stop) {
		strcpy(buf, "ok");
		strcpy(buf, bad);
	}
	return 0;
}

static void *flip_swap(void *arg) {
	(void)arg;
	while (!stop) {
		rename("d-dir", "d");
		rename("d", "d-dir");
		rename("d-link", "d");
		rename("d", "d-link");
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 4) return 2;
	const char *H = argv[2];
	int secs = atoi(argv[3]);
	int swap = !strcmp(argv[1], "swap");
	const char *target;
	if (swap) {
		if (mkdir("d-dir", 0755) || symlink(H, "d-link")) return 3;
		target = "d/escaped-swap";
	} else {
		snprintf(bad, sizeof bad, "%s/escaped-buffer", H);
		strcpy(buf, "ok");
		target = buf;
	}
	pthread_t th;
	pthread_create(&th, 0, swap ? flip_swap : flip_buffer, 0);
	time_t end = time(0) + secs;
	long ok = 0, refused = 0;
	while (time(0) < end) {
		int fd = open(target, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0) {
			ok++;
			close(fd);
		} else {
			refused++;
		}
	}
	stop = 1;
	pthread_join(th, 0);
	printf("created %ld refused %ld\n", ok, refused);
	return 0;
}
