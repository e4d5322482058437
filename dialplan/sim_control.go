package dialplan

import (
	"context"
	"fmt"
)

// What agents and supervisors do to a call in progress, on the simulated
// media server: each acts on a leg that must be up.

func (m *SimMedia) live(id LegID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.leg(id)
	return err
}

func (m *SimMedia) SwitchSnoop(ctx context.Context, supervisor LegID, mode SnoopMode) error {
	return m.live(supervisor)
}

func (m *SimMedia) Hold(ctx context.Context, id LegID) error   { return m.live(id) }
func (m *SimMedia) Unhold(ctx context.Context, id LegID) error { return m.live(id) }

// PauseRecording and ResumeRecording find the leg recording name.
func (m *SimMedia) PauseRecording(ctx context.Context, name string) error  { return m.recording(name) }
func (m *SimMedia) ResumeRecording(ctx context.Context, name string) error { return m.recording(name) }

func (m *SimMedia) recording(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.legs {
		if l.recording == name && !l.gone {
			return nil
		}
	}
	return fmt.Errorf("sim: no recording %q in progress", name)
}
