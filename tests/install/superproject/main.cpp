// Never built (Install.add_subdirectory_configure only configures); a target so that the configure
// resolves squall::http's whole link interface from the superproject's side.
#include "policies/http/http_transport.hpp"

int main() { return 0; }
