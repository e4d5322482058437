//go:build unix && !linux

package pbxlocal

import "syscall"

// sysProcAttr runs the server in its own process group. There is no
// parent-death signal outside Linux: if we are killed, the server runs
// on until stopped by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
