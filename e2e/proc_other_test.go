//go:build !linux

package e2e

import "os/exec"

// tied: only Linux can tie a child's life to ours (Pdeathsig).
func tied(cmd *exec.Cmd) *exec.Cmd { return cmd }
