// fakestat: stat argv[1] every way a program can (by path, by fd through
// each syscall, statx) and print owner, mode and rdev, one line per way;
// then the real, effective and saved ids, and fchown/fchmod through an fd.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void show(const char *how, int r, const struct stat *st) {
	if (r != 0) { printf("%s: error\n", how); return; }
	printf("%s: %u:%u %o %u:%u\n", how, st->st_uid, st->st_gid, st->st_mode,
	       major(st->st_rdev), minor(st->st_rdev));
}

int main(int argc, char **argv) {
	struct stat st;
	struct statx sx;
	if (argc < 2) return 2;
	show("stat", stat(argv[1], &st), &st);
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) { perror("open"); return 1; }
	show("fstat", fstat(fd, &st), &st);
	show("sys-fstat", (int)syscall(SYS_fstat, fd, &st), &st);
	show("fstatat-empty", fstatat(fd, "", &st, AT_EMPTY_PATH), &st);
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	show("proc-fd", stat(p, &st), &st);
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0)
		printf("statx-empty: %u:%u %o %u:%u\n", sx.stx_uid, sx.stx_gid, sx.stx_mode, sx.stx_rdev_major, sx.stx_rdev_minor);
	else
		printf("statx-empty: error\n");
	uid_t r, e, s;
	gid_t gr, ge, gs;
	if (getresuid(&r, &e, &s) == 0 && getresgid(&gr, &ge, &gs) == 0)
		printf("ids: %u %u %u %u %u %u\n", r, e, s, gr, ge, gs);
	if (argc > 2) {
		int w = open(argv[2], O_RDONLY);
		if (w < 0 || fchown(w, 12, 34) != 0 || fchmod(w, 01750) != 0) { perror(argv[2]); return 1; }
		show("fchown-fchmod", fstat(w, &st), &st);
	}
	return 0;
}
