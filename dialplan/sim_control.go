package dialplan

import (
	"context"
	"fmt"
	"time"
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

// PhoneRefers makes the phone dial (a device or an external number),
// after d, ask to transfer its call to to (a blind transfer by REFER).
// With moved, the request comes as FreeSWITCH carries it: the phone's
// partner, taken out of the bridge.
func (m *SimMedia) PhoneRefers(dial string, d time.Duration, to string, moved bool) {
	m.clock.AfterFunc(d, func() {
		m.mu.Lock()
		var phone *simLeg
		for _, l := range m.legs {
			if l.dial == dial && l.up && !l.gone {
				phone = l
			}
		}
		var target *simLeg
		if phone != nil {
			target = phone
			if moved {
				target = m.legs[phone.bridge]
			}
		}
		m.mu.Unlock()
		if target != nil {
			m.post(target, Event{Kind: EvTransferAsked, Leg: target.id, To: to, Moved: moved})
		}
	})
}
