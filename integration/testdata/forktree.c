// forktree: makes argv[1] processes in a tree, each stat'ing argv[2];
// exits 0 only if every process succeeded.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int spawn(int n, const char *path) {
	struct stat st;
	if (stat(path, &st) != 0) return 1;
	if (n <= 1) return 0;
	int left = (n - 1) / 2, right = n - 1 - left, fail = 0;
	pid_t a = -1, b = -1;
	if (left > 0 && (a = fork()) == 0) _exit(spawn(left, path));
	if (right > 0 && (b = fork()) == 0) _exit(spawn(right, path));
	int s;
	if (a > 0) { waitpid(a, &s, 0); fail |= !WIFEXITED(s) || WEXITSTATUS(s); }
	if (b > 0) { waitpid(b, &s, 0); fail |= !WIFEXITED(s) || WEXITSTATUS(s); }
	return fail;
}

int main(int argc, char **argv) {
	if (argc < 3) return 2;
	int r = spawn(atoi(argv[1]), argv[2]);
	printf("forktree: %s\n", r ? "FAIL" : "ok");
	return r;
}
