package redisadapter

// workQueue bounds the server-side events and disconnections from other
// nodes waiting for the namespace's handler goroutine.
const workQueue = 1024

// worker runs, one at a time and in order, what a namespace's adapter
// received from other nodes and must not run on the subscriber's
// goroutine.
type worker struct {
	c        *Cluster
	work     chan func()
	stopWork chan struct{} // closed by the adapter's Close
}

func newWorker(c *Cluster) worker {
	return worker{c: c, work: make(chan func(), workQueue), stopWork: make(chan struct{})}
}

// runWork runs the queued functions until the adapter or the cluster is
// closed.
func (w *worker) runWork() {
	for {
		select {
		case f := <-w.work:
			f()
		case <-w.stopWork:
			return
		case <-w.c.ctx.Done():
			return
		}
	}
}

// later queues f for the namespace's handler goroutine; a full queue drops
// it.
func (w *worker) later(channel string, f func()) {
	select {
	case w.work <- f:
	default:
		w.c.dropped(channel, errBusy)
	}
}
