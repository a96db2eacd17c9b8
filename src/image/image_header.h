// Internals of the header parser (image_header.cpp), shared with image_io.cpp. Not part of the
// image module's public contract: use probe_image() / decode_image() from image/image_io.h.
#pragma once
#include <string>
#include <string_view>

#include "image/image_io.h"

namespace pastiche::detail {

// probe_image() with the input named in error messages: "cannot load <what>: <reason>".
ImageHeader probe_image(std::string_view bytes, const std::string& what);

// The EXIF orientation (1-8) of a JPEG's APP1 Exif segment; 1 when absent, unreadable or not a
// JPEG. Never throws: a broken EXIF block must not make a decodable photo unusable.
int jpeg_exif_orientation(std::string_view bytes);

// Whether a JPEG has an end-of-image marker after its first scan. libjpeg only warns on a
// truncated file and fills the missing part with grey, so decode_image() checks this itself.
bool jpeg_has_end_marker(std::string_view bytes);

}  // namespace pastiche::detail
