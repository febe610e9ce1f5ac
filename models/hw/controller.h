#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/engine/quantized_model.h"
#include "models/functional/quant_config.h"
#include "models/hw/component.h"
#include "models/mapping/plan.h"
#include "models/network/graph.h"
#include "models/proto/compute.h"

namespace cim::hw {

/// How images go through the chip (run.mode).
enum class run_mode { layer_by_layer, pipelined };

/// What the controller runs: the network, its floorplan and number formats, and the images.
struct controller_setup {
    const network::graph& graph;  // with quantised weights and scales
    const mapping::plan& plan;
    const func::quant_config& quant;
    run_mode mode = run_mode::layer_by_layer;
    bool pseudo_activity = false;  // hand each layer's input-bit density to the subarrays
    std::vector<std::vector<std::int32_t>> images;  // the input images (a timing replay: empty, `image_count` of them)
    int image_count = 0;
    double buffer_capacity = 0;  // bytes of the global buffer (pipelined mode divides it among the layers)
};

/// Per layer results of a run, summed over images.
struct layer_result {
    int layer = -1;
    std::string name;
    double latency = 0;  // s: the layer's time from its start to its output written, summed over images
    // Bits of the layer's input activations (weight layers; summed over images) and how many of them are 1: the
    // input-bit density, the activity parameter of the paper's pseudo trace (run.activity: pseudo).
    std::uint64_t input_bits = 0, input_ones = 0;
    double input_density() const { return input_bits ? double(input_ones) / double(input_bits) : 0.0; }
};

/// Runs the network on the chip. Layer by layer: one process takes each image through the layers in order, so
/// layer n+1 starts when layer n has written its output (the paper's mode). Pipelined: one process per layer,
/// each taking the images in order as soon as its inputs are in the global buffer, so the tiles of a layer work
/// on image i+1 while later layers work on image i; the global buffer's capacity stalls a producer whose output
/// does not fit (back-pressure). A weight layer reads its input from the global buffer, unrolls it (im2col), sends
/// it to each of its tiles through the interconnect (the tiles compute concurrently, one process each), sums the
/// tiles' partial sums in the accumulator when it spans several, requantises them in the activation unit and
/// writes the output back; a layer without weights runs in the activation or pooling unit; a flatten is a
/// re-indexing of its input, free. The controller holds no tensors: the global buffer does.
class controller : public component {
public:
    proto::buffer_initiator_socket<controller> to_buffer{"to_buffer"};
    proto::compute_initiator_socket<controller> to_interconnect{"to_interconnect"};
    proto::compute_initiator_socket<controller> to_accumulator{"to_accumulator"};
    proto::compute_initiator_socket<controller> to_activation{"to_activation"};
    proto::compute_initiator_socket<controller> to_pooling{"to_pooling"};
    proto::compute_initiator_socket<controller> to_functions{"to_functions"};  // softmax, layer norm, GELU, attention

    controller(const sc_core::sc_module_name& name, run_record& rec, controller_setup setup);
    ~controller() override;

    bool finished() const { return m_finished; }
    /// When the last layer of the last image finished (the end of the run's simulated time).
    sc_core::sc_time end_time() const { return m_end; }
    int images() const { return m_setup.image_count; }
    const std::vector<layer_result>& results() const { return m_results; }
    /// Every layer's output of the last image, when the run kept them (keep_outputs), for tests.
    const std::vector<std::vector<std::int32_t>>& outputs() const { return m_outputs; }
    void keep_outputs(bool on) { m_keep_outputs = on; }
    /// When each image's last layer finished (s), and the timeline activity that ended it.
    const std::vector<double>& image_done() const { return m_image_done; }
    const std::vector<int>& image_done_activity() const { return m_image_done_activity; }
    /// [layer][image]: the timeline activity that finished the layer for the image (-1: it took no time).
    const std::vector<std::vector<int>>& done() const { return m_done; }
    /// Time layers waited for a buffer slot for their output (s), over the run.
    double stall_time() const { return m_stall.get(); }

private:
    struct stage;
    void run_layer_by_layer();
    void run_stage(int layer);
    int run_layer(stage& s, int layer, std::int64_t image, int cause);
    int run_weight_layer(stage& s, int layer, std::int64_t image, int cause);
    int run_other_layer(stage& s, int layer, std::int64_t image, int cause);
    int buffer_op(stage& s, proto::buffer_extension::kind what, proto::tensor_key key, int layer, std::uint64_t bytes,
                  int readers, std::vector<std::int32_t>* tensor, const std::vector<std::int32_t>** result, int cause,
                  bool host = false);
    int unit_op(stage& s, proto::compute_initiator_socket<controller>& socket, proto::op_extension& op, int cause);
    void finish(int layer, std::int64_t image, int activity);
    void fail();
    std::uint64_t tensor_bytes(int layer) const;

    controller_setup m_setup;
    std::vector<int> m_source;     // layer whose tensor holds layer i's output (flatten: its input's)
    std::vector<int> m_readers;    // layers that read the tensor of layer i
    std::vector<std::unique_ptr<stage>> m_stages;
    std::vector<layer_result> m_results;
    std::vector<std::vector<int>> m_done;  // [layer][image]: the activity that finished it, -2 while pending
    sc_core::sc_event m_progress;
    std::vector<int> m_live;          // output tensors of each layer in the buffer (pipelined flow control)
    std::vector<int> m_slots;         // tensors of each layer the buffer holds at most (pipelined)
    std::vector<int> m_freed_cause;   // the activity that freed each layer's last tensor
    std::map<proto::tensor_key, int> m_pending_readers;
    sc_core::sc_event m_freed;
    std::vector<std::vector<std::int32_t>> m_outputs;
    bool m_keep_outputs = false;
    bool m_finished = false;
    sc_core::sc_time m_end;
    int m_remaining = 0;
    std::vector<double> m_image_done;
    std::vector<int> m_image_done_activity;
    stats::sum m_input_wait{m_stats, "input_wait_time", "s", "time layers waited for their inputs (pipelined mode)"};
    stats::sum m_stall{m_stats, "stall_time", "s",
                       "time layers waited for a free slot of the global buffer for their output (back-pressure)"};
    std::vector<std::unique_ptr<sc_core::sc_signal<std::int64_t, sc_core::SC_MANY_WRITERS>>> m_image_signals;
};

}  // namespace cim::hw
