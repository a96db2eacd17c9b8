// Where Pastiche looks for model files (fast models and VGG weights), in one place, so that
// every command and the service search the same folders and find what `weights fetch` installs.
#pragma once
#include <string>
#include <vector>

namespace pastiche {

// The folder `weights fetch` installs into: $PASTICHE_MODELS_DIR, else
// ~/.local/share/pastiche/models. Throws InputError when neither can be worked out.
std::string user_models_dir();

// Existing folders to search, in order: $PASTICHE_MODELS_DIR, ~/.local/share/pastiche/models,
// ./models, the source tree's models/ (the default fast styles), and ../shared/models beside the
// working directory and the source tree. Each appears once.
std::vector<std::string> model_search_dirs();

}  // namespace pastiche
