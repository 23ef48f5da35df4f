// Small synchronous file-system calls Node's fs module does not expose: fallocate() to punch
// holes and zero ranges, and lseek() with SEEK_DATA/SEEK_HOLE to find allocated extents.
// Each call is one system call on the calling (event loop) thread: they are cheap metadata
// operations, and running them inline keeps trim/zero ordered with the synchronous writes of
// the chunk store.
#include <napi.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

namespace {

// Offsets travel as JS numbers; anything above 2^53 cannot be represented exactly.
constexpr double kMaxSafeInteger = 9007199254740991.0;

std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  Napi::Error error =
      Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

int ArgFd(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "fd must be a number");
  }
  const double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= 0 && value <= 2147483647.0) || std::floor(value) != value) {
    throw Napi::RangeError::New(info.Env(), "fd must be a non-negative 32-bit integer");
  }
  return static_cast<int>(value);
}

int64_t ArgOffset(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  const double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= 0 && value <= kMaxSafeInteger) || std::floor(value) != value) {
    throw Napi::RangeError::New(info.Env(),
                                std::string(what) + " must be a non-negative safe integer");
  }
  return static_cast<int64_t>(value);
}

void Fallocate(const Napi::CallbackInfo& info, int mode, const char* syscall) {
  const int fd = ArgFd(info, 0);
  const int64_t offset = ArgOffset(info, 1, "offset");
  const int64_t length = ArgOffset(info, 2, "length");
  if (length == 0) return;
  int rc;
  do {
    rc = fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(length));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) throw ErrnoError(info.Env(), errno, syscall);
}

// punchHole(fd, offset, length): deallocates the range; it reads back as zeroes and the file
// size is unchanged (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE).
Napi::Value PunchHole(const Napi::CallbackInfo& info) {
  Fallocate(info, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, "fallocate(PUNCH_HOLE)");
  return info.Env().Undefined();
}

// zeroRange(fd, offset, length): the range reads back as zeroes and stays allocated
// (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE), for WRITE_ZEROES with NO_HOLE.
Napi::Value ZeroRange(const Napi::CallbackInfo& info) {
  Fallocate(info, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, "fallocate(ZERO_RANGE)");
  return info.Env().Undefined();
}

Napi::Value Seek(const Napi::CallbackInfo& info, int whence, const char* syscall) {
  const int fd = ArgFd(info, 0);
  const int64_t offset = ArgOffset(info, 1, "offset");
  const off_t result = lseek(fd, static_cast<off_t>(offset), whence);
  if (result < 0) {
    // ENXIO: offset is at or past the end of the file, or (SEEK_DATA) no data follows it.
    if (errno == ENXIO) return Napi::Number::New(info.Env(), -1);
    throw ErrnoError(info.Env(), errno, syscall);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(result));
}

// seekData(fd, offset): the first offset >= offset that holds data, or -1 when none does.
Napi::Value SeekData(const Napi::CallbackInfo& info) {
  return Seek(info, SEEK_DATA, "lseek(SEEK_DATA)");
}

// seekHole(fd, offset): the first offset >= offset inside a hole (the end of the file counts
// as a hole), or -1 when offset is past the end of the file.
Napi::Value SeekHole(const Napi::CallbackInfo& info) {
  return Seek(info, SEEK_HOLE, "lseek(SEEK_HOLE)");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("punchHole", Napi::Function::New(env, PunchHole, "punchHole"));
  exports.Set("zeroRange", Napi::Function::New(env, ZeroRange, "zeroRange"));
  exports.Set("seekData", Napi::Function::New(env, SeekData, "seekData"));
  exports.Set("seekHole", Napi::Function::New(env, SeekHole, "seekHole"));
  return exports;
}

}  // namespace

NODE_API_MODULE(chunkstore_native, Init)
