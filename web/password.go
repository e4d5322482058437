package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's costs: passes over the memory, memory in
// KiB, lanes.
type PasswordParams struct {
	Time    uint32
	Memory  uint32
	Threads uint8
}

// DefaultPassword is RFC 9106's second recommended setting (64 MiB,
// 3 passes, 4 lanes): memory-hard enough that a stolen table of hashes
// costs an attacker dearly, about a tenth of a second a sign-in here.
var DefaultPassword = PasswordParams{Time: 3, Memory: 64 * 1024, Threads: 4}

// Password lengths: NIST SP 800-63B's floor, and a ceiling that bounds
// the work of hashing.
const (
	minPassword = 10
	maxPassword = 256
)

// hashPassword encodes the hash in the PHC string format, with its
// parameters and salt, so that a hash made with other costs still checks.
func hashPassword(password string, p PasswordParams) string {
	salt := make([]byte, 16)
	rand.Read(salt) // never fails (crypto/rand)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("not an argon2id hash")

// checkPassword says whether password matches encoded (hashPassword's).
func checkPassword(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Time == 0 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) || p.Memory > 4<<20 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
