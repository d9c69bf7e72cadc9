package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The SDK tests build real programs against SDKs. Two of them assemble the
// SDK with `vroot sdk create` from Debian packages, which needs the Debian
// mirrors and, for arm64, `dpkg --add-architecture arm64 && apt-get update`
// done as root beforehand (.ci/run does it). When that is missing they
// fail under CI=true and are skipped elsewhere; so are the checks that need
// host packages (the cross compiler, zlib1g-dev).

// needEnv fails under CI and skips elsewhere: what is missing is the
// machine's setup, not vroot's fault, but CI must have it.
func needEnv(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI machine not prepared (see .ci/run): "+format, args...)
	}
	t.Skipf("machine not prepared: "+format, args...)
}

// sdkCreate runs `vroot sdk create ARGS` as the test user in dir.
func sdkCreate(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := vroot(t, dir, append([]string{"sdk", "create"}, args...)...)
	if r.code == 0 {
		return r
	}
	for _, env := range []string{"apt-get download failed", "architecture not available", "not in apt's package lists"} {
		if strings.Contains(r.stderr, env) {
			needEnv(t, "vroot sdk create %s: %s", strings.Join(args, " "), lastLines(r.stderr, 3))
		}
	}
	t.Fatalf("vroot sdk create %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// copyTestdata copies testdata/sdk/NAME into dir, readable by the test user.
func copyTestdata(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", "sdk", n))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, n), string(data), 0o644)
	}
}

// sdkReport runs `vroot sdk check --json DIR`.
func sdkReport(t *testing.T, dir, sdk string) (sdkJSON, result) {
	t.Helper()
	r := vroot(t, dir, "sdk", "check", "--json", sdk)
	var rep sdkJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("sdk check --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	return rep, r
}

// sdkJSON is the part of the sdk check report the tests read.
type sdkJSON struct {
	Layout   string `json:"layout"`
	Triplets []struct {
		Name string   `json:"name"`
		Crt  []string `json:"crt"`
		Libc *struct {
			Version string `json:"version"`
			Package string `json:"package"`
		} `json:"libc"`
	} `json:"triplets"`
	PkgConfig []struct {
		Module string `json:"module"`
	} `json:"pkgconfig"`
	Packages []struct {
		Name string `json:"name"`
	} `json:"packages"`
	Findings []struct {
		Severity, Kind, Path, Message string
	} `json:"findings"`
	Errors int `json:"errors"`
}

func hostHas(t *testing.T, pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.Contains(string(out), "installed")
}

// TestSDKHostArchPackages: an SDK of host-arch packages the host does not
// have. A program using them builds and runs under --sdk (the dynamic
// loader's lookups of libcjson.so.1 go through the tracer), and does not
// build without it.
func TestSDKHostArchPackages(t *testing.T) {
	for _, p := range []string{"libcjson-dev", "libcjson1"} {
		if hostHas(t, p) {
			t.Fatalf("the host has %s installed: this test needs a host without it", p)
		}
	}
	if _, err := os.Stat("/usr/include/cjson"); err == nil {
		t.Fatal("the host has /usr/include/cjson: this test needs a host without it")
	}
	work := worldDir(t, "vroot-it-sdk-")
	sdkCreate(t, work, "sdk", "libcjson-dev", "libcjson1")
	copyTestdata(t, work, "cjson.c")

	native := runIn(t, work, "gcc", "-o", "prog", "cjson.c", "-lcjson")
	if native.code == 0 || !strings.Contains(native.stderr, "cjson/cJSON.h") {
		t.Fatalf("native build: exit %d, want a failure on cjson/cJSON.h\n%s", native.code, native.stderr)
	}
	plain := vroot(t, work, "--", "gcc", "-o", "prog", "cjson.c", "-lcjson")
	if plain.code == 0 {
		t.Fatal("the build succeeded under vroot without --sdk")
	}

	b := vroot(t, work, "--sdk", "sdk", "--", "gcc", "-o", "prog", "cjson.c", "-lcjson")
	if b.code != 0 {
		t.Fatalf("vroot --sdk build: exit %d\n%s%s", b.code, b.stdout, b.stderr)
	}
	run := vroot(t, work, "--sdk", "sdk", "--", "./prog")
	if run.code != 0 || !strings.HasPrefix(run.stdout, "vroot=42 cjson=1.") {
		t.Fatalf("vroot --sdk ./prog: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	// Natively the loader cannot find libcjson.so.1: it came from the SDK.
	if r := runIn(t, work, "./prog"); r.code == 0 || !strings.Contains(r.stderr, "libcjson.so.1") {
		t.Fatalf("native ./prog: exit %d %s", r.code, r.stderr)
	}
	// pkg-config reads the SDK's .pc file.
	if _, err := exec.LookPath("pkg-config"); err == nil {
		pc := vroot(t, work, "--sdk", "sdk", "--", "pkg-config", "--libs", "libcjson")
		if pc.code != 0 || strings.TrimSpace(pc.stdout) != "-lcjson" {
			t.Errorf("pkg-config --libs libcjson under --sdk: exit %d %q %s", pc.code, pc.stdout, pc.stderr)
		}
	}

	rep, r := sdkReport(t, work, "sdk")
	if r.code != 0 || rep.Errors != 0 || rep.Layout != "merged-usr" {
		t.Errorf("sdk check: exit %d\n%s", r.code, r.stdout)
	}
	if len(rep.Triplets) != 1 || rep.Triplets[0].Name != "x86_64-linux-gnu" {
		t.Errorf("triplets %+v", rep.Triplets)
	}
	if len(rep.PkgConfig) != 1 || rep.PkgConfig[0].Module != "libcjson" {
		t.Errorf("pkgconfig %+v", rep.PkgConfig)
	}
	if len(rep.Packages) != 2 {
		t.Errorf("packages %+v", rep.Packages)
	}
}

// TestSDKHeaderShadowing: the SDK's zlib.h, a copy of the host's with a
// marker, wins over the host's under --sdk and only there. The SDK reaches
// it through an absolute symlink, which resolves in the guest view, and
// also carries a broken stddef.h where gcc keeps its own headers, which
// --sdk must not let through: the compiler's private directories stay the
// host's.
func TestSDKHeaderShadowing(t *testing.T) {
	host, err := os.ReadFile("/usr/include/zlib.h")
	if err != nil {
		needEnv(t, "no /usr/include/zlib.h (install zlib1g-dev)")
	}
	work := worldDir(t, "vroot-it-sdk-")
	sdk := filepath.Join(work, "sdk")
	write(t, filepath.Join(sdk, "usr/include/vroot-marked/zlib.h"),
		string(host)+"\n#define VROOT_SDK_MARKER \"sdk\"\n", 0o644)
	symlink(t, "/usr/include/vroot-marked/zlib.h", filepath.Join(sdk, "usr/include/zlib.h"))
	out, err := exec.Command("gcc", "-print-file-name=include").Output()
	if err != nil {
		t.Fatal(err)
	}
	gccInclude := strings.TrimSpace(string(out))
	if !strings.HasPrefix(gccInclude, "/usr/lib/gcc/") {
		t.Fatalf("gcc's include directory is %q", gccInclude)
	}
	write(t, filepath.Join(sdk, gccInclude, "stddef.h"), "#error the SDK's copy of gcc's private stddef.h\n", 0o644)
	copyTestdata(t, work, "zmarker.c")

	build := func(args ...string) string {
		t.Helper()
		b := vroot(t, work, append(args, "--", "gcc", "-o", "zmarker", "zmarker.c", "-lz")...)
		if b.code != 0 {
			t.Fatalf("vroot %v build: exit %d\n%s", args, b.code, b.stderr)
		}
		r := runIn(t, work, "./zmarker")
		if r.code != 0 {
			t.Fatalf("./zmarker: exit %d %s", r.code, r.stderr)
		}
		return r.stdout
	}
	if got := build("--sdk", "sdk"); !strings.HasPrefix(got, "zlib.h from sdk, zlib ") {
		t.Errorf("under --sdk: %q", got)
	}
	if got := build(); !strings.HasPrefix(got, "zlib.h from host, zlib ") {
		t.Errorf("without --sdk: %q", got)
	}
	if r := runIn(t, work, "gcc", "-o", "zmarker", "zmarker.c", "-lz"); r.code != 0 {
		t.Fatalf("native build: %s", r.stderr)
	}
	if got := runIn(t, work, "./zmarker").stdout; !strings.HasPrefix(got, "zlib.h from host, zlib ") {
		t.Errorf("native: %q", got)
	}
}

// TestSDKCrossArm64: Debian's cross compiler, an arm64 SDK made by vroot
// sdk create, and a make that knows nothing of either: an aarch64 program
// linking zlib, which the host has not for arm64.
func TestSDKCrossArm64(t *testing.T) {
	if _, err := exec.LookPath("aarch64-linux-gnu-gcc"); err != nil {
		needEnv(t, "no aarch64-linux-gnu-gcc (install gcc-aarch64-linux-gnu)")
	}
	if _, err := exec.LookPath("file"); err != nil {
		needEnv(t, "no file(1)")
	}
	// The SDK must be the only source of arm64 headers and libraries.
	for _, p := range []string{"/usr/lib/aarch64-linux-gnu/libz.so", "/usr/include/aarch64-linux-gnu", "/usr/aarch64-linux-gnu/include", "/usr/aarch64-linux-gnu/lib/libz.so"} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("the host has %s: this test needs a host without arm64 development files (install gcc-aarch64-linux-gnu with --no-install-recommends)", p)
		}
	}
	work := worldDir(t, "vroot-it-sdk-")
	sdkCreate(t, work, "--arch", "arm64", "sdk", "libc6", "libc6-dev", "linux-libc-dev", "zlib1g", "zlib1g-dev")
	src := filepath.Join(work, "src")
	os.Mkdir(src, 0o777)
	os.Chmod(src, 0o777)
	copyTestdata(t, src, "Makefile", "zprog.c")

	if r := runIn(t, src, "make", "CC=aarch64-linux-gnu-gcc"); r.code == 0 {
		t.Fatal("the cross build succeeded without the SDK")
	}
	b := vroot(t, src, "--sdk", "../sdk", "--", "make", "CC=aarch64-linux-gnu-gcc")
	if b.code != 0 {
		t.Fatalf("vroot --sdk make: exit %d\n%s%s", b.code, b.stdout, b.stderr)
	}
	f := runIn(t, src, "file", "-b", "zprog")
	if !strings.Contains(f.stdout, "ELF 64-bit") || !strings.Contains(f.stdout, "ARM aarch64") {
		t.Fatalf("file zprog: %s", f.stdout)
	}
	// The program's zlib dependency is recorded, and it came from the SDK:
	// the host has no arm64 libz at all.
	if out, err := exec.Command("aarch64-linux-gnu-readelf", "-d", filepath.Join(src, "zprog")).Output(); err == nil &&
		!strings.Contains(string(out), "libz.so.1") {
		t.Errorf("zprog does not need libz.so.1:\n%s", out)
	}

	rep, r := sdkReport(t, work, "sdk")
	if r.code != 0 || rep.Errors != 0 {
		t.Errorf("sdk check: exit %d\n%s", r.code, r.stdout)
	}
	if len(rep.Triplets) != 1 || rep.Triplets[0].Name != "aarch64-linux-gnu" || rep.Triplets[0].Libc == nil ||
		rep.Triplets[0].Libc.Package != "libc6:arm64" || !slices.Contains(rep.Triplets[0].Crt, "crt1.o") {
		t.Errorf("triplets %+v", rep.Triplets)
	}
}

// TestSDKMapHidesHost: --map /usr=SDK/usr serves /usr from the SDK only. A
// file only the host has is ENOENT, also reached through the host's
// /lib -> usr/lib symlink, which resolves in the guest view.
func TestSDKMapHidesHost(t *testing.T) {
	work := worldDir(t, "vroot-it-sdk-")
	copyTestdata(t, work, "probe.c")
	probe := filepath.Join(work, "probe")
	if r := runIn(t, work, "gcc", "-static", "-O1", "-o", probe, "probe.c"); r.code != 0 {
		t.Fatalf("gcc -static: %s", r.stderr)
	}
	sdk := filepath.Join(work, "sdk")
	write(t, filepath.Join(sdk, "usr/share/vroot-sdk-only.txt"), "sdk-only\n", 0o644)
	write(t, filepath.Join(sdk, "usr/include/stdlib.h"), "/* the SDK's stdlib.h */\n", 0o644)
	hostOnly := "/usr/include/stdio.h"
	hostLibc := "/lib/" + hostTripletForTest() + "/libc.so.6"
	paths := []string{"/usr/share/vroot-sdk-only.txt", "/usr/include/stdlib.h", hostOnly, "/usr/bin/gcc", hostLibc}

	native := runIn(t, work, append([]string{probe}, paths...)...)
	for _, p := range []string{hostOnly, hostLibc} {
		if !strings.Contains(native.stdout, p+": ok") {
			t.Fatalf("the host has no %s:\n%s", p, native.stdout)
		}
	}
	r := vroot(t, work, append([]string{"--map", "/usr=" + sdk + "/usr", "--", probe}, paths...)...)
	want := strings.Join([]string{
		"/usr/share/vroot-sdk-only.txt: ok sdk-only",
		"/usr/include/stdlib.h: ok /* the SDK's stdlib.h */",
		hostOnly + ": ENOENT",
		"/usr/bin/gcc: ENOENT",
		hostLibc + ": ENOENT",
	}, "\n") + "\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d\ngot:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
}

func hostTripletForTest() string {
	out, err := exec.Command("gcc", "-dumpmachine").Output()
	if err != nil {
		return "x86_64-linux-gnu"
	}
	return strings.TrimSpace(string(out))
}

// TestSDKCheckCLI: vroot sdk check's exit status and one-line findings.
func TestSDKCheckCLI(t *testing.T) {
	work := worldDir(t, "vroot-it-sdk-")
	sdk := filepath.Join(work, "sdk")
	write(t, filepath.Join(sdk, "usr/include/x.h"), "", 0o644)
	r := vroot(t, work, "sdk", "check", "sdk")
	if r.code != 0 || !strings.HasSuffix(r.stdout, "0 errors, 0 warnings\n") {
		t.Fatalf("clean SDK: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	symlink(t, "libgone.so.1", filepath.Join(sdk, "usr/include/libgone.so"))
	r = vroot(t, work, "sdk", "check", "sdk")
	line := "error dangling-symlink /usr/include/libgone.so -> libgone.so.1: dangling: /usr/include/libgone.so.1 is missing in the SDK"
	if r.code != 1 || !slices.Contains(strings.Split(r.stdout, "\n"), line) {
		t.Fatalf("exit %d, want 1 and the line %q:\n%s%s", r.code, line, r.stdout, r.stderr)
	}
	if r := vroot(t, work, "sdk", "check", "nosuch"); r.code != 125 || !strings.Contains(r.stderr, "vroot: sdk check:") {
		t.Errorf("missing SDK: exit %d %s", r.code, r.stderr)
	}
}
