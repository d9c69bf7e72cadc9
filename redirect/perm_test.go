package redirect

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestEACCES compares permission errors with the kernel. Root bypasses
// them, so as root the test runs itself again as nobody.
func TestEACCES(t *testing.T) {
	if os.Geteuid() == 0 {
		runUnprivileged(t, "^TestEACCES$")
		return
	}
	specs := []string{"ns/f", "ns/sub/", "ns/:0600", "nr/f", "nr/:0300", "l->ns/f", "ok/f", "ld->ns"}
	paths := []string{
		"/ns", "/ns/", "/ns/f", "/ns/.", "/ns/..", "/ns/./f", "/ns/sub/..", "/ns/x", "/l", "/l/",
		"/nr/f", "/nr/.", "/nr/..", "/ns/../ok/f", "/ld/", "/ld/..", "/ld/../ok/f", "/ok/../ns/f",
	}
	t.Run("one layer", func(t *testing.T) {
		dir := mkTree(t, specs...)
		compare(t, newResolver(t, Options{}, redirect("/", dir)), dir, paths)
	})
	t.Run("layers", func(t *testing.T) {
		// The guest sees the top directory's mode, as overlayfs shows the
		// upper inode: what only the lower layer has is out of reach too.
		top := mkTree(t, "ns/f", "ns/:0600", "ok/", "l->ns/f")
		low := mkTree(t, "ns/g", "ns/sub/", "nr/f", "nr/:0300", "ok/f", "ld->ns")
		merged := mkTree(t, append(specs, "ns/g")...)
		compare(t, newResolver(t, Options{}, redirect("/", top, low)), merged, append(paths, "/ns/g", "/ns/sub"))
	})
}

// runUnprivileged runs the tests matching pattern in a copy of this test
// binary as nobody, and fails with its output if they fail.
func runUnprivileged(t *testing.T, pattern string) {
	if os.Getenv("VROOT_TEST_UNPRIVILEGED") != "" {
		t.Fatal("still root after dropping privileges")
	}
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	// The go-build directory is not open to others: copy the binary out.
	dir, err := os.MkdirTemp("", "vroot-unpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "redirect.test")
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run="+pattern, "-test.v", "-test.count=1")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "VROOT_TEST_UNPRIVILEGED=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
