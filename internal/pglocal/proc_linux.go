package pglocal

import "syscall"

// sysProcAttr runs the child as cred (nil: as us) in its own process group,
// so a Ctrl-C in the terminal reaches only us and we shut the server down
// after our own clean-up rather than under it. Pdeathsig stops the server
// (fast shutdown) if we die without calling Stop; Go sets it after the
// credential switch, which would otherwise clear it.
//
// Pdeathsig fires when the OS thread that started the child exits, not the
// process. The Go runtime only ends threads whose goroutine exited while
// locked with runtime.LockOSThread, so Start must not be called from such a
// goroutine.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGINT,
	}
	if cred != nil {
		// Groups empty: drop root's supplementary groups.
		a.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid, Groups: []uint32{}}
	}
	return a
}
