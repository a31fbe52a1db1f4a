package queue

// pop takes the value at the front of q, as Drain(1, ...) does; ok is false
// when Drain took nothing. Tests use it where one value at a time is
// clearer than a callback. Consumer only.
func (q *Inbox[T]) pop() (v T, ok bool) {
	q.Drain(1, func(p *T) { v, ok = *p, true })
	return v, ok
}
