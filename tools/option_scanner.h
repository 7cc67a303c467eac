// OptionScanner: walks a subcommand's arguments so that "--name value" and
// "--name=value" read alike. Shared by `linx list`, `linx find` and
// `linx watch` (the verbs have their own, stricter parser in
// verb_commands.cc).
//
//   OptionScanner args(argc, argv);  // argv[0] is the subcommand
//   while (args.Next()) {
//     absl::string_view v;
//     if (args.name() == "--pid") {
//       if (!args.TakeValue(&v)) return Usage("--pid needs a value");
//     } else if (args.arg() == "--json") { ... }
//   }
#ifndef LINX_TOOLS_OPTION_SCANNER_H_
#define LINX_TOOLS_OPTION_SCANNER_H_

#include "absl/strings/string_view.h"

namespace linx::tools {

class OptionScanner {
 public:
  OptionScanner(int argc, char** argv) : argc_(argc), argv_(argv) {}

  // Moves to the next argument; false when none is left.
  bool Next() {
    if (i_ + 1 >= argc_) return false;
    arg_ = argv_[++i_];
    name_ = arg_;
    value_ = {};
    inline_value_ = false;
    if (size_t eq = arg_.find('=');
        arg_.substr(0, 2) == "--" && eq != absl::string_view::npos) {
      name_ = arg_.substr(0, eq);
      value_ = arg_.substr(eq + 1);
      inline_value_ = true;
    }
    return true;
  }

  // The argument as given.
  absl::string_view arg() const { return arg_; }
  // "--name" of "--name=value"; otherwise the argument as given.
  absl::string_view name() const { return name_; }
  // Whether the argument was "--name=value".
  bool has_inline_value() const { return inline_value_; }
  // The option's value: the inline one, else the next argument (which is
  // consumed). False when there is none.
  bool TakeValue(absl::string_view* value) {
    if (!inline_value_) {
      if (i_ + 1 >= argc_) return false;
      value_ = argv_[++i_];
    }
    *value = value_;
    return true;
  }

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
  absl::string_view arg_, name_, value_;
  bool inline_value_ = false;
};

}  // namespace linx::tools

#endif  // LINX_TOOLS_OPTION_SCANNER_H_
