package postgres

import "context"

// Exec runs raw SQL on the store's pool, behind its back; the tests use it
// to tamper with the audit log.
func Exec(s *Store, query string, args ...any) error {
	_, err := s.pool.Exec(context.Background(), query, args...)
	return err
}
