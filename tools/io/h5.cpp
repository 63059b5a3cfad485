#include "tools/io/h5.hpp"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace ranvier::io::h5 {

namespace {

template <class T>
H5::PredType native_type();
template <>
H5::PredType native_type<double>() { return H5::PredType::NATIVE_DOUBLE; }
template <>
H5::PredType native_type<float>() { return H5::PredType::NATIVE_FLOAT; }
template <>
H5::PredType native_type<std::uint64_t>() { return H5::PredType::NATIVE_UINT64; }
template <>
H5::PredType native_type<std::int64_t>() { return H5::PredType::NATIVE_INT64; }

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

void quiet_errors() { H5::Exception::dontPrint(); }

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
