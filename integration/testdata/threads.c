// threads: a thread chdirs into argv[1] and opens a relative path (the
// cwd is shared with the main thread); then a non-leader thread execs
// argv[2] (a path under the map) with argv[3...].
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char **gargv;

static void *chdir_thread(void *arg) {
	(void)arg;
	if (chdir(gargv[1]) != 0) { perror("chdir"); return (void *)1; }
	return 0;
}

static void *exec_thread(void *arg) {
	(void)arg;
	execv(gargv[2], gargv + 2);
	perror("execv");
	_exit(3);
}

int main(int argc, char **argv) {
	if (argc < 3) return 2;
	gargv = argv;
	pthread_t t;
	void *r;
	pthread_create(&t, 0, chdir_thread, 0);
	pthread_join(t, &r);
	if (r) return 1;
	char buf[256] = {0};
	int fd = open("file", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) { perror("relative open after thread chdir"); return 1; }
	printf("thread-chdir: %s", buf);
	fflush(stdout);
	pthread_create(&t, 0, exec_thread, 0);
	pthread_join(t, 0);
	return 4;
}
