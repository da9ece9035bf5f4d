package sqlite

// Exec runs raw SQL on the store's writer, behind its back; the tests use it
// to tamper with the audit log.
func Exec(s *Store, query string, args ...any) error {
	_, err := s.w.Exec(query, args...)
	return err
}
