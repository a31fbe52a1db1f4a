package core_test

// The README's recipes, as runnable examples. The README quotes parts of
// them; TestREADMERecipesAreExamples checks that every line it quotes is
// here, so that the README shows tested code.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hotloop/hotloop/core"
)

// server closes connections that send nothing for idleAfter. The loop owns
// the table of open connections, so the table needs no lock; each
// connection's reader goroutine pushes its idle timer back on every read.
type server struct {
	loop      *core.Loop
	idleAfter time.Duration
	open      map[*session]bool // loop goroutine only
}

type session struct {
	name string
	nc   net.Conn
	idle core.Timer // embedded: re-armed on every read, allocating nothing
}

// serve takes a new connection: it registers it on the loop, arms its
// idle timer and starts its reader.
func (s *server) serve(ctx context.Context, name string, nc net.Conn) error {
	c := &session{name: name, nc: nc}
	if err := c.idle.Init(s.loop, func() { s.expire(c) }); err != nil {
		return err
	}
	if err := s.loop.Do(ctx, func() { s.open[c] = true }); err != nil {
		return err
	}
	c.idle.Reset(s.idleAfter)
	go s.read(c)
	return nil
}

// read runs on the connection's own goroutine.
func (s *server) read(c *session) {
	r := bufio.NewReader(c.nc)
	for {
		line, err := r.ReadString('\n')
		if err != nil { // closed by expire, or by the peer
			if c.idle.Stop() { // the peer went first: expire will not run
				s.loop.Post(func() { s.drop(c, "closed by the peer") }) // ErrClosed: the loop is closing anyway
			}
			return
		}
		c.idle.Reset(s.idleAfter) // pushed back: no message to the loop, no wake-up
		fmt.Fprintf(c.nc, "echo %s", line)
	}
}

// expire is the idle timer's callback: it runs on the loop.
func (s *server) expire(c *session) {
	s.drop(c, fmt.Sprintf("closed after %v idle", s.idleAfter))
}

// drop forgets a connection and closes it. Loop goroutine only.
func (s *server) drop(c *session, why string) {
	delete(s.open, c)
	c.nc.Close()
	fmt.Printf("%s %s; %d open\n", c.name, why, len(s.open))
}

// Example_idleTimeouts closes each connection that sends nothing for 5 s.
// Every read pushes the connection's own timer back, from its reader
// goroutine, for the cost of one compare-and-swap. A FakeClock stands in
// for time, so the example runs at once; a service passes no clock.
func Example_idleTimeouts() {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	go l.Run(context.Background())
	defer l.Close()
	ctx := context.Background()

	s := &server{loop: l, idleAfter: 5 * time.Second, open: map[*session]bool{}}
	chatty, quiet, brief := newClient(ctx, s, "chatty"), newClient(ctx, s, "quiet"), newClient(ctx, s, "brief")
	defer chatty.Close()
	defer quiet.Close()

	brief.say("bye")
	brief.Close()      // t = 0: brief hangs up itself
	s.waitOpen(ctx, 2) // until the server has seen it
	clk.Advance(3 * time.Second)
	chatty.say("hello") // t = 3 s: chatty's deadline moves to 8 s
	clk.Advance(3 * time.Second)
	chatty.say("still here") // t = 6 s: to 11 s; quiet went at 5 s
	clk.Advance(6 * time.Second)
	// Output:
	// brief: echo bye
	// brief closed by the peer; 2 open
	// chatty: echo hello
	// quiet closed after 5s idle; 1 open
	// chatty: echo still here
	// chatty closed after 5s idle; 0 open
}

// waitOpen waits until n connections are open (for the example's output
// order: a service has no need of it).
func (s *server) waitOpen(ctx context.Context, n int) {
	for open := -1; open != n; {
		if err := s.loop.Do(ctx, func() { open = len(s.open) }); err != nil {
			panic(err)
		}
	}
}

// client is the other end of a connection to s, through net.Pipe.
type client struct {
	name string
	nc   net.Conn
	r    *bufio.Reader
}

func newClient(ctx context.Context, s *server, name string) *client {
	mine, theirs := net.Pipe()
	if err := s.serve(ctx, name, theirs); err != nil {
		panic(err)
	}
	return &client{name: name, nc: mine, r: bufio.NewReader(mine)}
}

// say sends a line and waits for its echo, which the server writes after
// its Reset: the Reset has happened when say returns.
func (c *client) say(msg string) {
	fmt.Fprintln(c.nc, msg)
	echo, _ := c.r.ReadString('\n')
	fmt.Printf("%s: %s", c.name, echo)
}

func (c *client) Close() error { return c.nc.Close() }

// heartbeat sends a beat every period; a beat that fails is retried with
// exponential backoff, from 100 ms up to the period, by one timer that
// re-arms itself. Everything runs on the loop: send must not block (hand
// the bytes to the connection's writer, for instance).
type heartbeat struct {
	loop    *core.Loop
	send    func(beat int) error
	ticker  *core.Timer
	retry   core.Timer
	beat    int           // loop goroutine only
	backoff time.Duration // loop goroutine only; 0 when no retry is pending
}

func startHeartbeat(l *core.Loop, period time.Duration, send func(int) error) (*heartbeat, error) {
	h := &heartbeat{loop: l, send: send}
	if err := h.retry.Init(l, h.try); err != nil {
		return nil, err
	}
	t, err := l.Every(period, func() {
		h.beat++
		if h.backoff == 0 { // a retry pending will carry the news
			h.try()
		}
	})
	if err != nil {
		return nil, err
	}
	h.ticker = t
	return h, nil
}

// try sends the latest beat, and on failure arms the retry.
func (h *heartbeat) try() {
	if err := h.send(h.beat); err == nil {
		h.backoff = 0
		return
	}
	h.backoff = min(max(2*h.backoff, 100*time.Millisecond), time.Second)
	h.retry.Reset(h.backoff)
}

// Example_heartbeat sends a heartbeat every second, retries a failed one
// with backoff, and shuts down cleanly: Shutdown stops the ticker (periodic
// timers would never finish), lets the pending retry run, and returns once
// nothing is left. A retry that fails during Shutdown is not re-armed:
// after Shutdown, Reset no longer re-arms a timer that fired.
func Example_heartbeat() {
	clk := core.NewFakeClock()
	l := core.New(core.WithClock(clk))
	go l.Run(context.Background())
	t0 := clk.Now()

	down := map[int]int{2: 2, 4: 1} // beat 2 fails twice, beat 4 once
	send := func(beat int) error {
		if down[beat] > 0 {
			down[beat]--
			fmt.Printf("%v beat %d: failed\n", clk.Since(t0), beat)
			return errors.New("unreachable")
		}
		fmt.Printf("%v beat %d: sent\n", clk.Since(t0), beat)
		return nil
	}
	if _, err := startHeartbeat(l, time.Second, send); err != nil {
		fmt.Println(err)
		return
	}
	clk.Advance(4 * time.Second) // beats 1–4; beat 4's retry is pending

	shut := make(chan error)
	go func() { shut <- l.Shutdown(context.Background()) }()
	// In a service, time moves by itself while Shutdown waits for the
	// retry; here the FakeClock is moved, 50 ms a millisecond.
	for {
		select {
		case err := <-shut:
			fmt.Println("Shutdown:", err)
			return
		case <-time.After(time.Millisecond):
			clk.Advance(50 * time.Millisecond)
		}
	}
	// Output:
	// 1s beat 1: sent
	// 2s beat 2: failed
	// 2.1s beat 2: failed
	// 2.3s beat 2: sent
	// 3s beat 3: sent
	// 4s beat 4: failed
	// 4.1s beat 4: sent
	// Shutdown: <nil>
}

// account is an actor: its balance belongs to the loop goroutine, and other
// goroutines reach it through the loop only, with Post when they need no
// answer and Do when they do. Every method is safe from any goroutine.
type account struct {
	loop    *core.Loop
	balance int // loop goroutine only
}

var errInsufficient = errors.New("insufficient funds")

// Deposit adds n; it does not wait for the loop.
func (a *account) Deposit(n int) error {
	return a.loop.Post(func() { a.balance += n })
}

// Withdraw takes n if the balance covers it, and waits for the answer.
func (a *account) Withdraw(ctx context.Context, n int) error {
	var refused error
	err := a.loop.Do(ctx, func() {
		if a.balance < n {
			refused = errInsufficient
			return
		}
		a.balance -= n
	})
	return errors.Join(err, refused)
}

// Balance waits for the loop and returns the balance.
func (a *account) Balance(ctx context.Context) (int, error) {
	var b int
	err := a.loop.Do(ctx, func() { b = a.balance })
	return b, err
}

// Example_actor: an account whose balance is never locked and never
// overdrawn. Twelve withdrawals of 30 race from four goroutines against a
// balance of 100: exactly three succeed.
func Example_actor() {
	l := core.New()
	go l.Run(context.Background())
	defer l.Close()
	ctx := context.Background()

	acct := &account{loop: l}
	if err := acct.Deposit(100); err != nil {
		fmt.Println(err)
		return
	}
	// One goroutine's posts run in order: the deposit is in.
	if b, err := acct.Balance(ctx); b != 100 || err != nil {
		fmt.Println(b, err)
		return
	}
	var granted sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 4 {
		granted.Go(func() {
			for range 3 {
				if acct.Withdraw(ctx, 30) == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		})
	}
	granted.Wait()
	b, err := acct.Balance(ctx)
	fmt.Println("withdrawals granted:", ok, "balance:", b, err)
	// Output:
	// withdrawals granted: 3 balance: 10 <nil>
}

// tour is the README's first example: what a Loop does, with every error
// checked.
func tour() error {
	l := core.New()
	ran := make(chan error, 1)
	// This goroutine is the loop. Its ctx is its own: a ctx that ends
	// pauses the loop (Run returns, work is kept); Shutdown ends it.
	go func() { ran <- l.Run(context.Background()) }()

	if err := l.Post(func() { fmt.Println("from any goroutine") }); err != nil {
		return err // core.ErrClosed: the loop is closing
	}
	t, err := l.AfterFunc(time.Hour, func() { fmt.Println("timer") })
	if err != nil {
		return err
	}
	stopped := t.Stop() // true: it will not run

	ctx := context.Background()
	err = l.Do(ctx, func() { // runs on the loop; Do waits for it
		if err := l.Local().Post(func() { fmt.Println("fast path, from inside the loop") }); err != nil {
			fmt.Println(err)
		}
	})
	if err != nil {
		return err
	}
	fmt.Println("stopped:", stopped)

	// Shutdown runs everything accepted and waits for pending one-shot
	// timers; Close, if the deadline passes, cancels what is left.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		l.Close()
	}
	if err := <-ran; !errors.Is(err, core.ErrClosed) { // ErrClosed: finished
		return err
	}
	return nil
}

// Example_tour posts a callback, arms and stops a timer, runs a callback
// on the loop with Do, and shuts the loop down.
func Example_tour() {
	if err := tour(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// from any goroutine
	// fast path, from inside the loop
	// stopped: true
}
