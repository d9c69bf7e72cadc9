package tracer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/redirect"
)

// statLoop is the helper behind TestStopsDoNotAllocate: n rounds of the
// calls a build makes most (stat, fstat, open+close, readlink, access), on
// a mapped path and a host path.
func statLoop(args []string) int {
	n, _ := strconv.Atoi(args[0])
	var st syscall.Stat_t
	buf := make([]byte, 256)
	dfd, err := syscall.Open(filepath.Dir(args[1]), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	base := filepath.Base(args[1])
	for i := 0; i < n; i++ {
		// Relative to the cwd and to a directory fd.
		if err := syscall.Access(filepath.Base(args[2]), 4); err != nil {
			fmt.Println("relative", err)
			return 1
		}
		fd, err := syscall.Openat(dfd, base, syscall.O_RDONLY, 0)
		if err != nil {
			fmt.Println("openat", err)
			return 1
		}
		syscall.Close(fd)
		for _, p := range args[1:] {
			if err := syscall.Stat(p, &st); err != nil {
				fmt.Println(p, err)
				return 1
			}
			fd, err := syscall.Open(p, syscall.O_RDONLY, 0)
			if err != nil {
				fmt.Println(p, err)
				return 1
			}
			syscall.Fstat(fd, &st)
			syscall.Close(fd)
			syscall.Access(p, 4)
			syscall.Readlink(p, buf)
		}
	}
	return 0
}

// TestStopsDoNotAllocate proves the steady state of the tracer's stop
// handling, with the real resolver, allocates nothing: the whole process's
// malloc count over tens of thousands of stops stays far below one per stop
// (what remains is the run's fixed cost: launch, first resolutions).
func TestStopsDoNotAllocate(t *testing.T) {
	dir := t.TempDir()
	lower := filepath.Join(dir, "lower")
	if err := os.MkdirAll(filepath.Join(lower, "inc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lower, "inc", "x.h"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(dir, "host.txt")
	if err := os.WriteFile(host, []byte("h"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := filemap.New([]filemap.Rule{
		{Path: "/", Action: filemap.Redirect},
		{Path: dir, Action: filemap.Grant},
		{Path: "/vroot-guest", Action: filemap.Redirect, To: []string{lower}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := redirect.OpenStage(filepath.Join(t.TempDir(), "stage"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name string
		opt  redirect.Options
	}{{"no stage", redirect.Options{}}, {"stage", redirect.Options{Stage: st}}} {
		t.Run(tc.name, func(t *testing.T) { checkStopAllocs(t, dir, host, redirect.New(m, tc.opt)) })
	}
}

func checkStopAllocs(t *testing.T, dir, host string, res *redirect.Resolver) {
	stops := func(n int) (mallocs uint64) {
		args, env := helperArgs("statloop", strconv.Itoa(n), "/vroot-guest/inc/x.h", host)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		ex, err := Run(ctx, Config{Args: args, Env: env, Dir: dir, Resolver: res})
		runtime.ReadMemStats(&after)
		if err != nil || ex.Code != 0 {
			t.Fatalf("run: %v, exit %d", err, ex.Code)
		}
		return after.Mallocs - before.Mallocs
	}
	// Two runs that differ only in the number of rounds: the difference
	// is what the extra stops cost, free of the fixed cost of a run.
	const rounds = 2000
	const stopsPerRound = 2*5 + 2 // paths × trapped calls, relative calls
	small := stops(10)
	big := stops(10 + rounds)
	extra := int64(big) - int64(small)
	perStop := float64(extra) / float64(rounds*stopsPerRound)
	t.Logf("mallocs: %d for 10 rounds, %d for %d rounds: %.4f per stop", small, big, 10+rounds, perStop)
	if perStop > 0.01 {
		t.Errorf("stop handling allocates: %.3f mallocs per stop (%d extra for %d stops)", perStop, extra, rounds*stopsPerRound)
	}
}
