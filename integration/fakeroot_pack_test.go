package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFakerootPack: the fakeroot fixture installed by an ordinary user
// under --fakeroot, then packed: GNU tar and bsdtar list the owners, modes,
// device numbers and the hard link the install asked for, and unpacking
// the archive as root reproduces them on disk.
func TestFakerootPack(t *testing.T) {
	setcap := needSetcap(t)
	bsdtar := packTool(t, "bsdtar", "libarchive-tools")
	work, st := fakerootWork(t)
	r := vroot(t, work, "--fakeroot", "--stage", st, "--", "make", "install", "SETCAP="+setcap)
	if r.code != 0 {
		t.Fatalf("make install: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(work, "pkg.tar")
	r = vroot(t, work, "pack", st, "-o", out)
	if r.code != 0 {
		t.Fatalf("vroot pack: exit %d\n%s", r.code, r.stderr)
	}

	dest := "./" + strings.TrimPrefix(fakerootDest, "/")
	list := must(t, work, "tar", "--numeric-owner", "-tvvf", out)
	for _, want := range []string{
		`-rwxr-sr-x 0/60 +\d+ \S+ \S+ ` + dest + `/bin/prog\n`,
		`hrwxr-sr-x 0/60 +0 \S+ \S+ ` + dest + `/bin/prog-link link to ` + dest + `/bin/prog\n`,
		`-rwsr-xr-x 0/0 +\d+ \S+ \S+ ` + dest + `/bin/su\n`,
		`crw-r--r-- 0/0 +1,3 \S+ \S+ ` + dest + `/dev/null\n`,
		`brw-rw---- 0/0 +8,0 \S+ \S+ ` + dest + `/dev/sda\n`,
		`drwxr-xr-x 65534/60 +0 \S+ \S+ ` + dest + `/srv/\n`,
		`-rw-r--r-- 65534/0 +5 \S+ \S+ ` + dest + `/srv/data\n`,
		`drwxrwxrwt 0/0 +0 \S+ \S+ ` + dest + `/tmp/\n`,
	} {
		if !regexp.MustCompile(want).MatchString(list) {
			t.Errorf("tar -tvv lacks %s:\n%s", want, list)
		}
	}
	if strings.Contains(list, ".vroot") {
		t.Errorf("vroot's own state is packed:\n%s", list)
	}
	// bsdtar reads the same device.
	blist := must(t, work, bsdtar, "--numeric-owner", "-tvf", out)
	if !regexp.MustCompile(`crw-r--r-- +\d+ 0 +0 +1,3 .* ` + regexp.QuoteMeta(dest) + `/dev/null\n`).MatchString(blist) {
		t.Errorf("bsdtar -tv: no char device 1,3 for dev/null:\n%s", blist)
	}

	if os.Geteuid() != 0 {
		return // unpacking with owners and devices needs root
	}
	x := filepath.Join(work, "x")
	if err := os.Mkdir(x, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, work, "tar", "--numeric-owner", "--xattrs", "--xattrs-include=security.*", "-xpf", out, "-C", x)
	got := must(t, x, "stat", "-c", "%n %u:%g %a %F %t:%T %h",
		dest+"/bin/prog", dest+"/bin/prog-link", dest+"/bin/su", dest+"/dev/null", dest+"/dev/sda", dest+"/srv", dest+"/srv/data", dest+"/tmp")
	want := strings.Join([]string{
		dest + "/bin/prog 0:60 2755 regular file 0:0 2",
		dest + "/bin/prog-link 0:60 2755 regular file 0:0 2",
		dest + "/bin/su 0:0 4755 regular file 0:0 1",
		dest + "/dev/null 0:0 644 character special file 1:3 1",
		dest + "/dev/sda 0:0 660 block special file 8:0 1",
		dest + "/srv 65534:60 755 directory 0:0 2",
		dest + "/srv/data 65534:0 644 regular file 0:0 1",
		dest + "/tmp 0:0 1777 directory 0:0 2",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("unpacked as root:\n%s\nwant:\n%s", got, want)
	}
	if cap := must(t, x, "/usr/sbin/getcap", dest+"/bin/ping"); !strings.Contains(cap, "cap_net_raw=ep") {
		t.Errorf("unpacked ping: getcap %q, want cap_net_raw=ep", cap)
	}
}
