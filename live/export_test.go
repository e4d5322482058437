package live

import "github.com/switchboard/switchboard/store"

// StartSnapshot is which transactions the hub's starting state saw.
func (h *Hub) StartSnapshot() store.XactSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snap
}
