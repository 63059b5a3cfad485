#include "tools/io/h5.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <regex>

#include <fmt/format.h>

#include "tools/io/errors.hpp"
#include "tools/io/output_file.hpp"

namespace ranvier::io::h5 {

namespace {

template <class T>
H5::PredType native_type();
template <>
H5::PredType native_type<double>() {
  return H5::PredType::NATIVE_DOUBLE;
}
template <>
H5::PredType native_type<float>() {
  return H5::PredType::NATIVE_FLOAT;
}
template <>
H5::PredType native_type<std::uint64_t>() {
  return H5::PredType::NATIVE_UINT64;
}
template <>
H5::PredType native_type<std::int64_t>() {
  return H5::PredType::NATIVE_INT64;
}

void replace_attr(const H5::H5Object& obj, const std::string& name) {
  if (obj.attrExists(name)) obj.removeAttr(name);
}

template <class T>
void scalar_attr(const H5::H5Object& obj, const std::string& name, T value) {
  replace_attr(obj, name);
  H5::Attribute a = obj.createAttribute(name, native_type<T>(), H5::DataSpace(H5S_SCALAR));
  a.write(native_type<T>(), &value);
}

// Objects are created without access/modification/creation times (HDF5 stores them in
// every object header by default): the same content then gives the same bytes, so two
// runs of the same config and seed differ only in the fields that name wall-clock time.
H5::DSetCreatPropList untimed_dataset() {
  H5::DSetCreatPropList p;
  H5Pset_obj_track_times(p.getId(), false);
  return p;
}

template <class T>
H5::DataSet write_array(const H5::Group& loc, const std::string& name, const T* data, int rank,
                        const hsize_t* dims, const std::string& units) {
  H5::DataSpace space(rank, dims);
  H5::DataSet ds = loc.createDataSet(name, native_type<T>(), space, untimed_dataset());
  hsize_t total = 1;
  for (int i = 0; i < rank; ++i) total *= dims[i];
  if (total > 0) ds.write(data, native_type<T>());
  if (!units.empty()) write_attr(ds, "units", units);
  return ds;
}

}  // namespace

namespace {

// The latest failure's error stack, innermost entry first, kept by the library's
// "automatic" error handler (called once per failing API call, before it returns).
std::vector<std::string> g_last_stack;
std::uint64_t g_failures = 0;
bool g_abandoned = false;

herr_t collect_entry(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  std::string text = err->desc ? err->desc : "";
  if (text.empty()) {
    char minor[256] = {0};
    if (H5Eget_msg(err->min_num, nullptr, minor, sizeof minor) > 0) text = minor;
  }
  out->push_back(text);
  return 0;
}

herr_t record_stack(hid_t stack, void* /*data*/) {
  std::vector<std::string> entries;
  H5Ewalk2(stack, H5E_WALK_UPWARD, collect_entry, &entries);  // innermost first
  g_last_stack = std::move(entries);
  ++g_failures;
  return 0;
}

}  // namespace

void quiet_errors() {
  H5Eset_auto2(H5E_DEFAULT, record_stack, nullptr);
}

std::uint64_t failure_count() {
  return g_failures;
}

H5::H5File create_file(const std::string& path) {
  H5::FileAccPropList access;
  access.setSieveBufSize(0);
  return H5::H5File(path, H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access);
}

namespace {

int descriptor_of(const H5::H5File& file) {
  const hid_t id = file.getId();
  if (id < 0 || H5Iis_valid(id) <= 0) return -1;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(id, H5P_DEFAULT, &handle) < 0 || !handle) return -1;
  return *static_cast<int*>(handle);  // the sec2 driver's descriptor
}

void redirect_to_null(int fd) {
  if (fd < 0) return;
  const int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd < 0) return;
  ::dup2(null_fd, fd);
  ::close(null_fd);
}

// HDF5 1.10 cannot close a file twice after a failed close (it crashes when the library
// shuts down). After a failure the file is abandoned instead: its descriptor goes to
// /dev/null, and one extra reference keeps the C++ destructors from closing it again.
void abandon(hid_t id, int fd) {
  g_abandoned = true;
  redirect_to_null(fd);
  if (id >= 0 && H5Iis_valid(id) > 0) H5Iinc_ref(id);
}

}  // namespace

bool files_abandoned() {
  return g_abandoned;
}

void discard_writes(H5::H5File& file) noexcept {
  const auto saved = g_last_stack;
  abandon(file.getId(), descriptor_of(file));
  g_last_stack = saved;
}

void close_file(H5::H5File& file) {
  const int fd = descriptor_of(file);
  try {
    file.close();
  } catch (const H5::Exception&) {
    const auto saved = g_last_stack;
    abandon(file.getId(), fd);
    g_last_stack = saved;
    throw;
  }
}

void write_new_file(const std::string& path, const std::function<void(H5::H5File&)>& contents) {
  quiet_errors();
  const std::uint64_t failures_before = failure_count();
  H5::H5File file;
  try {
    file = create_file(path);
    contents(file);
    file.flush(H5F_SCOPE_GLOBAL);
    close_file(file);
  } catch (const H5::Exception& e) {
    const std::string message = explain(e, path, "write");
    discard_writes(file);
    throw OutputError(message);
  }
  if (failure_count() != failures_before) throw OutputError(explain_last(path, "write"));
}

ErrorCause take_last_error() {
  ErrorCause cause;
  std::vector<std::string> stack = std::move(g_last_stack);
  g_last_stack.clear();
  for (const std::string& entry : stack) {
    if (entry.empty()) continue;
    cause.text = entry;
    break;
  }
  // System-call failures read "file write failed: time = ..., filename = '...', file
  // descriptor = 3, errno = 28, error message = 'No space left on device', buf = ...":
  // keep what failed and the system's message.
  static const std::regex errno_re(R"(errno = (\d+), error message = '([^']*)')");
  std::smatch m;
  if (std::regex_search(cause.text, m, errno_re)) {
    cause.error_number = std::stoi(m[1].str());
    std::string what = cause.text.substr(0, cause.text.find_first_of(",:"));
    cause.text = fmt::format("{} ({})", what, m[2].str());
  }
  return cause;
}

namespace {

std::string explain_cause(const ErrorCause& cause, const std::string& file,
                          const std::string& action) {
  // Writers write a hidden temporary that is renamed onto the output at the end: the
  // message names the output the user gave, not ".run.h5.<pid>.<host>.tmp".
  const std::string path = shown_path(file);
  const std::string& why = cause.text;
  const int en = cause.error_number;
  if (en == ENOSPC || en == EDQUOT || en == EFBIG)
    return fmt::format(
        "cannot {} '{}': {}; the disk is full or a file size limit (ulimit -f, "
        "quota) was reached: free some space or write elsewhere with -o",
        action, path, why);
  if (why.find("truncated file") != std::string::npos)
    return fmt::format(
        "cannot {} '{}': the file is truncated ({}): a copy, download or run "
        "that did not finish; get the file again",
        action, path, why);
  if (en == EAGAIN || en == EWOULDBLOCK || why.find("unable to lock") != std::string::npos)
    return fmt::format(
        "cannot {} '{}': {}; another program has it open for writing (HDF5 locks "
        "a file while it is written): close that program and try again (on a "
        "file system without locks, set HDF5_USE_FILE_LOCKING=FALSE)",
        action, path, why);
  if (en == EACCES || en == EPERM || en == EROFS)
    return fmt::format("cannot {} '{}': {}; choose a file or directory you may write with -o",
                       action, path, why);
  if (why.find("signature") != std::string::npos)
    return fmt::format("cannot {} '{}': it is not an HDF5 file ({})", action, path, why);
  return fmt::format("cannot {} '{}': {}; the file may be damaged or not written by ranvier",
                     action, path, why);
}

}  // namespace

std::string explain(const H5::Exception& e, const std::string& path, const std::string& action) {
  ErrorCause cause = take_last_error();
  if (cause.text.empty()) cause.text = e.getDetailMsg();
  return explain_cause(cause, path, action);
}

std::string explain_last(const std::string& path, const std::string& action) {
  ErrorCause cause = take_last_error();
  if (cause.text.empty()) cause.text = "an HDF5 call failed";
  return explain_cause(cause, path, action);
}

H5::Group ensure_group(H5::H5File& file, const std::string& path) {
  // Create each prefix "/a", "/a/b", ... in turn: nameExists needs the parent to exist.
  std::size_t slash = 0;
  while (slash != std::string::npos) {
    slash = path.find('/', slash + 1);
    const std::string prefix = path.substr(0, slash);
    if (prefix.size() > 1 && !file.nameExists(prefix)) {
      // Untimed, as datasets (write_array); the C++ API has no group creation list.
      const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
      H5Pset_obj_track_times(gcpl, false);
      const hid_t g = H5Gcreate2(file.getId(), prefix.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT);
      H5Pclose(gcpl);
      if (g < 0) throw H5::GroupIException("ensure_group", "cannot create " + prefix);
      H5Gclose(g);
    }
  }
  return file.openGroup(path.empty() ? "/" : path);
}

void write_attr(const H5::H5Object& obj, const std::string& name, const std::string& value) {
  replace_attr(obj, name);
  // Variable-length UTF-8: h5py returns a str.
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  H5::Attribute a = obj.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(type, &p);
}
void write_attr(const H5::H5Object& obj, const std::string& name, const char* value) {
  write_attr(obj, name, std::string(value));
}
void write_attr(const H5::H5Object& obj, const std::string& name, double value) {
  scalar_attr(obj, name, value);
}
void write_attr(const H5::H5Object& obj, const std::string& name, std::int64_t value) {
  scalar_attr(obj, name, value);
}
void write_attr(const H5::H5Object& obj, const std::string& name, std::uint64_t value) {
  scalar_attr(obj, name, value);
}
void write_attr(const H5::H5Object& obj, const std::string& name, const std::vector<double>& v) {
  replace_attr(obj, name);
  const hsize_t n = v.size();
  H5::Attribute a = obj.createAttribute(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(1, &n));
  if (n) a.write(H5::PredType::NATIVE_DOUBLE, v.data());
}

std::optional<std::string> read_string_attr(const H5::H5Object& obj, const std::string& name) {
  if (!obj.attrExists(name)) return std::nullopt;
  H5::Attribute a = obj.openAttribute(name);
  // One string only: HDF5's C++ read of a variable-length string writes one pointer per
  // element into a single one, so an array of strings overflows the stack.
  if (a.getTypeClass() != H5T_STRING || a.getSpace().getSimpleExtentNpoints() != 1)
    return std::nullopt;
  std::string s;
  a.read(a.getStrType(), s);
  return s;
}

std::optional<double> read_double_attr(const H5::H5Object& obj, const std::string& name) {
  if (!obj.attrExists(name)) return std::nullopt;
  H5::Attribute a = obj.openAttribute(name);
  const H5T_class_t c = a.getTypeClass();
  if ((c != H5T_FLOAT && c != H5T_INTEGER) || a.getSpace().getSimpleExtentNpoints() != 1)
    return std::nullopt;
  double v = 0;
  a.read(H5::PredType::NATIVE_DOUBLE, &v);
  return v;
}

H5::DataSet write_vector(const H5::Group& loc, const std::string& name,
                         const std::vector<double>& v, const std::string& units) {
  const hsize_t n = v.size();
  return write_array(loc, name, v.data(), 1, &n, units);
}
H5::DataSet write_vector(const H5::Group& loc, const std::string& name,
                         const std::vector<std::uint64_t>& v, const std::string& units) {
  const hsize_t n = v.size();
  return write_array(loc, name, v.data(), 1, &n, units);
}
H5::DataSet write_vector(const H5::Group& loc, const std::string& name,
                         const std::vector<std::int64_t>& v, const std::string& units) {
  const hsize_t n = v.size();
  return write_array(loc, name, v.data(), 1, &n, units);
}
H5::DataSet write_matrix(const H5::Group& loc, const std::string& name, const double* data,
                         std::size_t rows, std::size_t cols, const std::string& units) {
  const hsize_t dims[2] = {rows, cols};
  return write_array(loc, name, data, 2, dims, units);
}
H5::DataSet write_matrix(const H5::Group& loc, const std::string& name, const float* data,
                         std::size_t rows, std::size_t cols, const std::string& units) {
  const hsize_t dims[2] = {rows, cols};
  return write_array(loc, name, data, 2, dims, units);
}

namespace {

// A declared shape is not storage: a file of a few kB can declare 2^40 values (chunked,
// never written; reads give the fill value), and reading them would try to allocate it
// all. Above 2^28 values (2 GiB as doubles) the file is refused.
void check_size(const std::string& name, hsize_t rows, hsize_t cols) {
  constexpr hsize_t kMaxValues = hsize_t(1) << 28;
  if (rows > kMaxValues || cols > kMaxValues || (cols != 0 && rows > kMaxValues / cols))
    throw H5::DataSetIException(
        "read_matrix", fmt::format("'{}' declares {} x {} values, more than ranvier reads ({})",
                                   name, rows, cols, kMaxValues));
}

// Values are read as numbers: integers or floats of at most 16 bytes (a long double). A
// corrupted type of gigabytes per value made libhdf5 allocate a conversion buffer of
// that size before reading anything (fuzz_h5_bytes: malloc of 4 GB).
void check_type(const H5::DataSet& ds, const std::string& name) {
  const H5T_class_t c = ds.getTypeClass();
  const std::size_t bytes = ds.getDataType().getSize();
  if ((c != H5T_INTEGER && c != H5T_FLOAT) || bytes == 0 || bytes > 16)
    throw H5::DataSetIException(
        "read_matrix",
        fmt::format("'{}' does not hold numbers ranvier reads (integers or floats of 1 to 16 "
                    "bytes; its values are {} bytes{})",
                    name, bytes, c == H5T_INTEGER || c == H5T_FLOAT ? "" : " and not numbers"));
}

}  // namespace

std::vector<double> read_matrix(const H5::Group& loc, const std::string& name, std::size_t& rows,
                                std::size_t& cols) {
  H5::DataSet ds = loc.openDataSet(name);
  H5::DataSpace space = ds.getSpace();
  const int rank = space.getSimpleExtentNdims();
  if (rank < 1 || rank > 2)
    throw H5::DataSetIException("read_matrix", fmt::format("'{}' has rank {}", name, rank));
  hsize_t dims[2] = {0, 1};
  space.getSimpleExtentDims(dims);
  check_size(name, dims[0], rank == 2 ? dims[1] : 1);
  check_type(ds, name);
  rows = dims[0];
  cols = rank == 2 ? dims[1] : 1;
  std::vector<double> v(rows * cols);
  if (!v.empty()) ds.read(v.data(), H5::PredType::NATIVE_DOUBLE);
  return v;
}

std::vector<double> read_vector(const H5::Group& loc, const std::string& name) {
  std::size_t rows = 0, cols = 0;
  return read_matrix(loc, name, rows, cols);
}

std::vector<std::uint64_t> read_uint_vector(const H5::Group& loc, const std::string& name) {
  H5::DataSet ds = loc.openDataSet(name);
  check_size(name, static_cast<hsize_t>(ds.getSpace().getSimpleExtentNpoints()), 1);
  check_type(ds, name);
  std::vector<std::uint64_t> v(ds.getSpace().getSimpleExtentNpoints());
  if (!v.empty()) ds.read(v.data(), H5::PredType::NATIVE_UINT64);
  return v;
}

template <class T>
Appendable<T>::Appendable(const H5::Group& loc, const std::string& name, std::size_t cols,
                          const std::string& units, std::size_t buffer_rows)
    : cols_(cols), buffer_rows_(buffer_rows) {
  const int rank = cols == 0 ? 1 : 2;
  const hsize_t dims[2] = {0, cols};
  const hsize_t maxdims[2] = {H5S_UNLIMITED, cols};
  // Chunks of about 64 KiB: large enough for fast appends, small enough for partial reads.
  const hsize_t chunk_rows = std::max<hsize_t>(1, 8192 / std::max<std::size_t>(1, cols));
  const hsize_t chunk[2] = {chunk_rows, std::max<hsize_t>(cols, 1)};
  H5::DSetCreatPropList props = untimed_dataset();
  props.setChunk(rank, chunk);
  dataset_ = loc.createDataSet(name, native_type<T>(), H5::DataSpace(rank, dims, maxdims), props);
  if (!units.empty()) write_attr(dataset_, "units", units);
  buffer_.reserve(std::min<std::size_t>(buffer_rows_, 1 << 12) * width());
}

template <class T>
void Appendable<T>::append(const T* row) {
  buffer_.insert(buffer_.end(), row, row + width());
  if (buffer_.size() >= buffer_rows_ * width()) flush();
}

template <class T>
void Appendable<T>::flush() {
  const hsize_t n = buffer_.size() / width();
  if (n == 0) return;
  const int rank = cols_ == 0 ? 1 : 2;
  const hsize_t new_dims[2] = {written_ + n, cols_};
  dataset_.extend(new_dims);
  H5::DataSpace file_space = dataset_.getSpace();
  const hsize_t offset[2] = {written_, 0};
  const hsize_t count[2] = {n, cols_};
  file_space.selectHyperslab(H5S_SELECT_SET, count, offset);
  H5::DataSpace mem_space(rank, count);
  dataset_.write(buffer_.data(), native_type<T>(), mem_space, file_space);
  written_ += n;
  buffer_.clear();
}

template class Appendable<double>;
template class Appendable<std::uint64_t>;

std::string now_iso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_root_attributes(H5::H5File& file, const RootInfo& info) {
  H5::Group root = file.openGroup("/");
  write_attr(root, "program", std::string("ranvier ") + RANVIER_VERSION);
  write_attr(root, "kind", info.kind);
  write_attr(root, "config", info.config);
  write_attr(root, "config_file", info.config_file);
  write_attr(root, "seed", info.seed);
  write_attr(root, "created", now_iso8601());
}

}  // namespace ranvier::io::h5
