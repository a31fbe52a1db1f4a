module github.com/hotloop/hotloop

go 1.26.0

require (
	github.com/emirpasic/gods v1.18.1
	go.uber.org/atomic v1.12.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
)
