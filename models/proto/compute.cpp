#include "models/proto/compute.h"
