// Shared main of the SystemC tests: libsystemc provides main() and calls sc_main: linking gtest_main too would run a dummy sc_main and no test.
// SystemC warnings and errors become test failures.
#include <gtest/gtest.h>

#include <systemc>

int sc_main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_THROW);
    return RUN_ALL_TESTS();
}
