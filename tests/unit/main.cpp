// The test runner runs on a 256 MiB stack, as every thread of the stratum
// command does (src/cli/main.cpp): the depth limits of the language are
// sized for it, and sanitizer builds use larger frames.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <pthread.h>

namespace {

struct Run {
  int argc;
  char** argv;
  int status = 0;
};

void* run_session(void* p) {
  auto* run = static_cast<Run*>(p);
  run->status = Catch::Session().run(run->argc, run->argv);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Run run{argc, argv};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256u << 20);
  pthread_t thread;
  if (pthread_create(&thread, &attr, run_session, &run) != 0) return run_session(&run), run.status;
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  return run.status;
}
