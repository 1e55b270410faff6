package actor

// ActiveDurable counts the system's active durable actors, for tests.
func ActiveDurable(s *System) int {
	s.durable.mu.Lock()
	defer s.durable.mu.Unlock()
	return len(s.durable.acts)
}
