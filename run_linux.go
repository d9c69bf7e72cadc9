package vroot

import "context"

func run(ctx context.Context, cfg Config) (Result, error) {
	return Result{ExitCode: ExitVrootError}, ErrNotImplemented
}
