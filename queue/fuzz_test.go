package queue

import "testing"

// FuzzInbox interprets data as a sequence of operations on a small inbox
// (the first byte picks the capacity, and with bit 4 set lets the ring grow
// to 64) and checks every result against a plain slice. Ops: even byte =
// Push; byte%4 == 1: pop; byte%4 == 3: Drain of up to byte>>2%8+1 values.
func FuzzInbox(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1})
	f.Add([]byte{3, 2, 4, 6, 8, 10, 12, 14, 16, 18, 1, 3, 0, 5, 7, 9, 11, 13, 15, 17, 19, 21})
	f.Add([]byte{0x11, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 1, 31, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 3, 31, 31})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		capacity := int(data[0]%8) + 1
		var opts []InboxOption[int]
		if data[0]&0x10 != 0 {
			opts = append(opts, WithGrowth[int](64/ringCapacity(capacity))) // up to 64
		}
		q := NewInbox(capacity, opts...)
		var model []int
		next := 0
		for i, op := range data[1:] {
			switch {
			case op%2 == 0:
				q.Push(next)
				model = append(model, next)
				next++
			case op%4 == 1:
				v, ok := q.pop()
				if ok != (len(model) > 0) {
					t.Fatalf("op %d: pop ok = %v with %d modelled values", i, ok, len(model))
				}
				if ok {
					if v != model[0] {
						t.Fatalf("op %d: pop = %d, want %d", i, v, model[0])
					}
					model = model[1:]
				}
			default:
				max := int(op>>2)%8 + 1
				n := q.Drain(max, func(v *int) {
					if len(model) == 0 || *v != model[0] {
						t.Fatalf("op %d: Drain delivered %d, model %v", i, *v, model)
					}
					model = model[1:]
				})
				if want := min(max, n+len(model)); n != want {
					t.Fatalf("op %d: Drain(%d) = %d, want %d", i, max, n, want)
				}
			}
			if q.Len() != len(model) || q.Empty() != (len(model) == 0) {
				t.Fatalf("op %d: Len=%d Empty=%v, model has %d", i, q.Len(), q.Empty(), len(model))
			}
			if c := q.Cap(); c > 64 || c&(c-1) != 0 {
				t.Fatalf("op %d: Cap = %d", i, c)
			}
		}
	})
}

// FuzzRing interprets data as operations on a Ring and checks them against a
// slice. Ops by byte%4: 0,1 = PushBack, 2,3 = PopFront; 255 pops
// everything (rare, so that long runs stay long).
func FuzzRing(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 2})
	f.Add([]byte{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Ring[int]
		var model []int
		next := 0
		for i, op := range data {
			switch {
			case op == 255:
				for r.Len() > 0 {
					if v, ok := r.PopFront(); !ok || v != model[0] {
						t.Fatalf("op %d: PopFront = (%d, %v), want (%d, true)", i, v, ok, model[0])
					}
					model = model[1:]
				}
			case op%4 == 2 || op%4 == 3:
				v, ok := r.PopFront()
				if ok != (len(model) > 0) {
					t.Fatalf("op %d: PopFront ok = %v with %d modelled values", i, ok, len(model))
				}
				if ok {
					if v != model[0] {
						t.Fatalf("op %d: PopFront = %d, want %d", i, v, model[0])
					}
					model = model[1:]
				}
			default:
				r.PushBack(next)
				model = append(model, next)
				next++
			}
			if r.Len() != len(model) {
				t.Fatalf("op %d: Len = %d, want %d", i, r.Len(), len(model))
			}
		}
	})
}
