//go:build unix && !linux

package pglocal

import "syscall"

// sysProcAttr runs the child as cred (nil: as us) in its own process group,
// so a Ctrl-C in the terminal reaches only us. There is no parent-death
// signal outside Linux: if we are killed, the server keeps running until
// stopped by hand.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if cred != nil {
		a.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid, Groups: []uint32{}}
	}
	return a
}
