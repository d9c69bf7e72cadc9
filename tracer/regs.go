package tracer

import (
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

func getRegs(pid int, r *unix.PtraceRegs) error { return linux.GetRegs(pid, r) }
func setRegs(pid int, r *unix.PtraceRegs) error { return linux.SetRegs(pid, r) }
