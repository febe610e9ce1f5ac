#pragma once
// The circuit components a chip is built of, one header each: the synaptic subarray, adder trees, SRAM buffers, the
// H-tree and the digital units with their lanes. Include the one you need; this header includes them all.
#include "models/circuit/adder_tree.h"
#include "models/circuit/digital_unit.h"
#include "models/circuit/htree.h"
#include "models/circuit/sram_buffer.h"
#include "models/circuit/subarray_model.h"
