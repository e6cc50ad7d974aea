// HealthSync addition to FerretDB 1.24.2's handler (copied into internal/handler/ at build time by
// scripts/ferretdb/patch.ts).
//
// FerretDB runs findAndModify as "query, change the document in Go, write it back by _id" with no
// transaction (upstream TODO FerretDB#2168), so two findAndModify calls with the same condition can
// both match and both "win": Agenda's job lock (`findOneAndUpdate({lockedAt: null, ...})`) then
// hands one job to two workers, or to two queue fills of one worker. The embedded server is one
// process, so running the findAndModify calls on one collection one at a time makes each of them
// atomic with respect to the others, as on MongoDB. Plain update commands are not serialised (our
// own code never relies on a conditional update being atomic: platform/claim.ts).

package handler

import "sync"

// healthsyncFindAndModifyLocks holds one mutex per "database.collection".
var healthsyncFindAndModifyLocks sync.Map

// healthsyncLockCollection waits until no other findAndModify runs on the collection and returns
// the function that lets the next one run.
func healthsyncLockCollection(db, collection string) func() {
	m, _ := healthsyncFindAndModifyLocks.LoadOrStore(db+"."+collection, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()

	return mu.Unlock
}
