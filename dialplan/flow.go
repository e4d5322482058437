package dialplan

import (
	"context"
	"fmt"
	"strings"
)

// Flow is a number's configuration compiled into the graph the engine
// runs: what the API shows at GET /v1/numbers/:id/flow.
type Flow struct {
	Number NumberID   `json:"number_id"`
	Start  string     `json:"start"`
	Nodes  []FlowNode `json:"nodes"`
}

// FlowNode is one step of a flow; Next maps each outcome to the node that
// follows ("" ends the call).
type FlowNode struct {
	ID      string            `json:"id"`
	Kind    string            `json:"kind"`
	Message MessageKind       `json:"message,omitempty"`
	Step    *Step             `json:"step,omitempty"`
	Target  *Target           `json:"target,omitempty"`
	Next    map[string]string `json:"next"`
}

// Compile builds the flow graph of a number, in the order a call meets
// its nodes: blocked callers, opening hours, welcome, menu or ring steps,
// voicemail.
func Compile(n Number) Flow {
	f := Flow{Number: n.ID, Start: "blocked"}
	add := func(node FlowNode) { f.Nodes = append(f.Nodes, node) }
	unanswered := "voicemail"
	if !n.Voicemail {
		unanswered = ""
	}
	add(FlowNode{ID: "blocked", Kind: "check_blocked", Next: map[string]string{"blocked": "blocked_message", "allowed": "hours"}})
	add(FlowNode{ID: "blocked_message", Kind: "message", Message: MsgBlocked, Next: map[string]string{"done": ""}})
	add(FlowNode{ID: "hours", Kind: "business_hours", Next: map[string]string{"open": "welcome", "closed": "after_hours"}})
	add(FlowNode{ID: "after_hours", Kind: "message", Message: MsgAfterHours, Next: map[string]string{"done": unanswered}})
	first := "step_1"
	if n.Type == IVR {
		first = "menu"
	} else if len(n.Distribution) == 0 {
		first = unanswered
	}
	add(FlowNode{ID: "welcome", Kind: "message", Message: MsgWelcome, Next: map[string]string{"done": first}})
	if n.Type == IVR {
		menu := FlowNode{ID: "menu", Kind: "menu", Message: MsgIVR, Next: map[string]string{"no_choice": unanswered}}
		add(menu)
		for _, o := range n.IVROptions {
			id := "option_" + o.Key
			menu.Next[o.Key] = id
			t := o.Target
			node := FlowNode{ID: id, Target: &t, Next: map[string]string{}}
			switch t.Type {
			case TargetVoicemail:
				node.Kind, node.Next["done"] = "voicemail", ""
				if !n.Voicemail {
					node.Kind = "hangup"
				}
			case TargetExternal:
				node.Kind, node.Next["answered"], node.Next["no_answer"] = "forward", "", unanswered
			case TargetNumber:
				node.Kind, node.Next["done"] = "transfer", ""
			default:
				node.Kind, node.Next["answered"], node.Next["no_answer"] = "ring_"+string(t.Type), "", unanswered
			}
			add(node)
		}
	} else {
		for i, s := range n.Distribution {
			next := fmt.Sprintf("step_%d", i+2)
			if i == len(n.Distribution)-1 {
				next = unanswered
			}
			step := s
			node := FlowNode{ID: fmt.Sprintf("step_%d", i+1), Kind: "ring_" + string(s.Type), Step: &step,
				Next: map[string]string{"answered": "", "no_answer": next}}
			if n.RespectQueuingTime {
				node.Next["nobody_free"] = "queue_" + node.ID[len("step_"):]
				add(FlowNode{ID: "queue_" + node.ID[len("step_"):], Kind: "queue", Message: MsgWaiting, Step: &step,
					Next: map[string]string{"answered": "", "timeout": next}})
				if n.CallbackRequest {
					f.Nodes[len(f.Nodes)-1].Next["*"] = "callback"
				}
			} else {
				node.Next["nobody_free"] = next
			}
			add(node)
		}
		if n.CallbackRequest && n.RespectQueuingTime {
			add(FlowNode{ID: "callback", Kind: "callback_request", Message: MsgCallbackLater, Next: map[string]string{"done": ""}})
		}
	}
	if n.Voicemail {
		add(FlowNode{ID: "voicemail", Kind: "voicemail", Message: MsgUnansweredCall, Next: map[string]string{"done": ""}})
	}
	return f
}

// NumberLookup reads another number of the company, for transfer checks.
type NumberLookup func(ctx context.Context, id NumberID) (Number, error)

// CheckTransfers refuses an IVR whose number→number transfers lead back to
// itself: a caller would go round for ever.
func CheckTransfers(ctx context.Context, n Number, lookup NumberLookup) error {
	for i, o := range n.IVROptions {
		if o.Target.Type != TargetNumber {
			continue
		}
		path := []string{n.Name}
		if err := walk(ctx, NumberID(o.Target.ID), n, lookup, path, map[NumberID]bool{}); err != nil {
			if fe, ok := err.(*FieldError); ok {
				fe.Field = fmt.Sprintf("ivr_options[%d].target.id", i)
			}
			return err
		}
	}
	return nil
}

func walk(ctx context.Context, id NumberID, origin Number, lookup NumberLookup, path []string, seen map[NumberID]bool) error {
	if id == origin.ID {
		return &FieldError{Problem: "transfers loop back to this number: " + strings.Join(append(path, origin.Name), " → ")}
	}
	if seen[id] {
		return nil // a loop elsewhere was refused when that number was saved
	}
	seen[id] = true
	next, err := lookup(ctx, id)
	if err != nil {
		return &FieldError{Problem: fmt.Sprintf("no number %d in this company", id)}
	}
	for _, o := range next.IVROptions {
		if o.Target.Type == TargetNumber {
			if err := walk(ctx, NumberID(o.Target.ID), origin, lookup, append(path, next.Name), seen); err != nil {
				return err
			}
		}
	}
	return nil
}
