// Replaced as the window lands.
namespace ccs::ui {
int placeholder() { return 0; }
}
