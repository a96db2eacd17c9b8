// The names a user sees on files: the photo's name as it was uploaded (kept with the job), the
// name a result downloads under ("chicago-the-starry-night.png"), and the Content-Disposition
// header that carries it. Pure functions: no I/O, no locale.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace pastiche::service {

constexpr size_t kMaxContentNameChars = 60;
constexpr size_t kMaxDownloadNameChars = 100;

// An uploaded file name as a job's content_name: the base name (after the last '/' or '\'),
// without its extension; letters (any script) and digits kept, '-' and '_' kept, anything else
// (spaces, dots, punctuation, symbols, controls, invalid UTF-8) becomes one '-'; no '-' at either
// end; at most kMaxContentNameChars characters. "" when nothing is left.
// "C:\photos\Holiday 2024 (1).JPG" -> "Holiday-2024-1".
std::string content_name_from_filename(std::string_view filename);

// Lower-case ASCII words joined with '-': Latin letters with accents lose them ("Café" ->
// "cafe"), other characters separate words (letters of other scripts are dropped).
std::string slug(std::string_view text);

// The slug of a job's style: its titles' ("A + B" -> "a-and-b"), else its style ids' (comma
// separated), else "painting".
std::string style_slug(std::string_view style_titles, std::string_view style_fallback);

// What a job's result downloads as: "<content>-<style>.png" from its content_name and style
// titles (a blend's titles, as stored "A + B", become "a-and-b"); "pastiche-<style>.png" without
// a content name; ASCII, at most kMaxDownloadNameChars characters with the extension.
// `style_fallback` (the style ids) is used when the titles give no slug.
std::string download_name(std::string_view content_name, std::string_view style_titles,
                          std::string_view style_fallback, std::string_view extension = "png");

// Unique names for a set of files: the second "a.png" becomes "a-2.png", the third "a-3.png".
std::vector<std::string> deduplicated(const std::vector<std::string>& names);

// A Content-Disposition value (RFC 6266): `kind` ("attachment" or "inline") with filename=
// an ASCII rendering (quotes, backslashes and controls replaced), plus filename*=UTF-8''...
// (RFC 5987 percent-encoding) when the name is not plain ASCII.
std::string content_disposition(std::string_view kind, std::string_view filename);

}  // namespace pastiche::service
