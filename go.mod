module github.com/hotloop/hotloop

go 1.25.0

require (
	github.com/emirpasic/gods v1.18.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
