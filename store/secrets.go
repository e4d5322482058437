package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
)

// SecretURLSigning names the key that signs the links to calls'
// recordings and voicemails (32 bytes).
const SecretURLSigning = "url_signing"

// Secret gives the secret name: size random bytes made the first time
// any process asks, then the same to every process on this database. Two
// processes asking at once get the same one: the first insert wins, the
// other reads it.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	value, err := s.readSecret(ctx, name)
	if errors.Is(err, sqlNoRows) {
		fresh := make([]byte, size)
		rand.Read(fresh) // never fails (crypto/rand)
		if _, err := s.db.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		// Read back rather than trust fresh: another process may have won.
		value, err = s.readSecret(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if len(value) != size {
		return nil, fmt.Errorf("secret %s: %d bytes in the database, want %d", name, len(value), size)
	}
	return value, nil
}

func (s *Store) readSecret(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	err := s.db.GetContext(ctx, &value, "SELECT value FROM secrets WHERE name = $1", name)
	return value, err
}
