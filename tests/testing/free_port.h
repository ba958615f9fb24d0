// -----------------------------------------------------------------------------
// File: free_port.h
// -----------------------------------------------------------------------------
//
// Free TCP ports for servers started by tests, so tests never depend on a fixed port and can run in parallel.
//
// Thread safety: PickFreePort() may be called from any thread.
#ifndef TRADEIN_TESTS_TESTING_FREE_PORT_H_
#define TRADEIN_TESTS_TESTING_FREE_PORT_H_

namespace tradein::testing {

// PickFreePort
//
// A TCP port on 127.0.0.1 that was free a moment ago: the kernel picked it for a socket bound to port 0,
// which is then closed. Another process may take it before the caller binds it, so callers that start a
// server retry with a new port when the server reports the address in use. Aborts if no socket can be bound.
int PickFreePort();

}  // namespace tradein::testing

#endif  // TRADEIN_TESTS_TESTING_FREE_PORT_H_
