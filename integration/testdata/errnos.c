// errnos: performs path operations under a base directory and prints what
// each returned, so that a native run on a tree and a run under vroot
// through a map of the same tree can be compared line by line.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *base;

static void report(const char *op, const char *rel, long r) {
	if (r < 0)
		printf("%s %s: %s\n", op, rel, strerrorname_np(errno));
	else
		printf("%s %s: ok\n", op, rel);
}

static void check(const char *rel) {
	static char p[16384];
	snprintf(p, sizeof p, "%s/%s", base, rel);
	struct stat st;
	struct statx stx;
	char buf[4096];
	long r;

	report("stat", rel, stat(p, &st));
	report("lstat", rel, lstat(p, &st));
	report("statx", rel, syscall(SYS_statx, AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx));
	report("access", rel, access(p, R_OK));
	report("faccessat2", rel, syscall(SYS_faccessat2, AT_FDCWD, p, R_OK, AT_SYMLINK_NOFOLLOW));
	r = open(p, O_RDONLY);
	report("open", rel, r);
	if (r >= 0) close(r);
	r = open(p, O_RDONLY | O_DIRECTORY);
	report("open-dir", rel, r);
	if (r >= 0) close(r);
	r = open(p, O_RDONLY | O_NOFOLLOW);
	report("open-nofollow", rel, r);
	if (r >= 0) close(r);
	struct open_how how = {.flags = O_RDONLY};
	r = syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof how);
	report("openat2", rel, r);
	if (r >= 0) close(r);
	r = readlink(p, buf, sizeof buf - 1);
	if (r >= 0) {
		buf[r] = 0;
		printf("readlink %s: %s\n", rel, buf);
	} else {
		report("readlink", rel, r);
	}
	int dfd = open(base, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		report("fstatat-dirfd", rel, fstatat(dfd, rel, &st, 0));
		r = openat(dfd, rel, O_RDONLY);
		report("openat-dirfd", rel, r);
		if (r >= 0) close(r);
		close(dfd);
	}
	if (chdir(base) == 0) {
		report("stat-relative", rel, stat(rel, &st));
		chdir("/");
	}
}

// mkrel writes a path of exactly n bytes that names "file": "./" pairs,
// one extra "/" when n is odd, then "file".
static void mkrel(char *out, size_t n) {
	size_t i = 0, pad = n - 4;
	if (pad % 2) { out[i++] = '.'; out[i++] = '/'; out[i++] = '/'; pad -= 3; }
	while (pad >= 2) { out[i++] = '.'; out[i++] = '/'; pad -= 2; }
	memcpy(out + i, "file", 5);
}

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	base = argv[1];
	char name255[256], name256[257], longpath[4200], longpath2[4200];
	memset(name255, 'n', 255); name255[255] = 0;
	memset(name256, 'n', 256); name256[256] = 0;
	// Relative paths that make base/path exactly 4095 bytes (the longest
	// the kernel takes) and 4096 (ENAMETOOLONG).
	mkrel(longpath, 4095 - strlen(base) - 1);
	mkrel(longpath2, 4096 - strlen(base) - 1);
	const char *cases[] = {
		"file", "file/", "file/x", "dir", "dir/", "dir/.", "dir/..", "dir/../file",
		"dir/sub/../../file", "missing", "missing/", "missing/x", "link-file",
		"link-file/", "link-dir", "link-dir/", "link-dir/inner", "dangling",
		"dangling/", "loop", "loop/x", "chain40", "chain41", "noperm/x", "rel-dir", "abs-file",
		"/", ".", "..", name255, name256, longpath, longpath2,
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
		check(cases[k]);
	return 0;
}
