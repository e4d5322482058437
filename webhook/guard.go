// Package webhook delivers the event stream to the companies' webhooks:
// the outbox (webhook_deliveries, written with each event) drained by a
// dispatcher, signed, retried, in order per call.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Policy says where webhooks may post: https URLs of public addresses,
// unless the operator allows more.
type Policy struct {
	// AllowHTTP lets webhooks post to http:// URLs too.
	AllowHTTP bool
	// AllowNets are ranges allowed although private (a receiver on the
	// operator's own network; tests use 127.0.0.0/8).
	AllowNets []netip.Prefix
}

// ErrForbidden: the URL, or an address it resolves to, is not one a
// webhook may post to.
var ErrForbidden = errors.New("not a URL webhooks may post to")

// ParseNets reads a comma-separated list of CIDR ranges
// (SWITCHBOARD_WEBHOOK_ALLOW_NETS).
func ParseNets(s string) ([]netip.Prefix, error) {
	var nets []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("webhook networks: %q: %w", f, err)
		}
		nets = append(nets, p.Masked())
	}
	return nets, nil
}

// CheckURL says whether raw is a URL webhooks may post to: absolute,
// https (or http when allowed), without credentials, whose host resolves
// only to allowed addresses. It resolves the host: a URL is checked when
// saved and again at each delivery, since DNS can change.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	switch {
	case u.Scheme == "https", u.Scheme == "http" && p.AllowHTTP:
	case u.Scheme == "http":
		return fmt.Errorf("%w: http is not allowed, use https", ErrForbidden)
	default:
		return fmt.Errorf("%w: the scheme must be https", ErrForbidden)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: no host", ErrForbidden)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL", ErrForbidden)
	}
	addrs, err := resolve(ctx, u.Hostname())
	if err != nil {
		return fmt.Errorf("%w: %s does not resolve: %v", ErrForbidden, u.Hostname(), err)
	}
	for _, a := range addrs {
		if err := p.checkAddr(a); err != nil {
			return fmt.Errorf("%w (%s)", err, u.Hostname())
		}
	}
	return nil
}

func resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, errors.New("no address")
	}
	return ips, nil
}

// checkAddr refuses an address that is not public (loopback, private,
// link-local, the cloud metadata address among them, carrier NAT,
// unspecified, multicast), unless its range is allowed.
func (p Policy) checkAddr(a netip.Addr) error {
	a = a.Unmap()
	for _, n := range p.AllowNets {
		if n.Contains(a) {
			return nil
		}
	}
	switch {
	case a.IsLoopback():
		return fmt.Errorf("%w: %s is a loopback address", ErrForbidden, a)
	case a.IsPrivate(), cgnat.Contains(a):
		return fmt.Errorf("%w: %s is a private address", ErrForbidden, a)
	case a.IsUnspecified(), a.IsMulticast():
		return fmt.Errorf("%w: %s is not a unicast address", ErrForbidden, a)
	case a.IsLinkLocalUnicast():
		return fmt.Errorf("%w: %s is a link-local address (cloud metadata among them)", ErrForbidden, a)
	}
	return nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Control is a net.Dialer's Control: it refuses, at connect time, an
// address the policy does not allow, whatever a name resolved to
// (a receiver whose DNS answers a private address after the check).
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	return p.checkAddr(ap.Addr())
}
