#include "daemon/protocol.h"

// Error.code carries runtime status codes; ireed.proto names the ones
// clients act on.
_Static_assert((int)IREED__ERROR_CODE__NOT_FOUND == (int)IRT_STATUS_NOT_FOUND,
               "ErrorCode.NOT_FOUND");
_Static_assert((int)IREED__ERROR_CODE__PERMISSION_DENIED ==
                   (int)IRT_STATUS_PERMISSION_DENIED,
               "ErrorCode.PERMISSION_DENIED");
_Static_assert((int)IREED__ERROR_CODE__RESOURCE_EXHAUSTED ==
                   (int)IRT_STATUS_RESOURCE_EXHAUSTED,
               "ErrorCode.RESOURCE_EXHAUSTED");
_Static_assert((int)IREED__ERROR_CODE__UNAVAILABLE ==
                   (int)IRT_STATUS_UNAVAILABLE,
               "ErrorCode.UNAVAILABLE");

irt_status_t ireed_encode_error(uint64_t request_id, irt_status_t status,
                                irt_allocator_t allocator, uint8_t** out_data,
                                size_t* out_size) {
  char message[IREED_ERROR_MESSAGE_MAX];
  irt_status_format_brief(status, message, sizeof(message));
  Ireed__Error error = IREED__ERROR__INIT;
  error.code = (uint32_t)irt_status_code(status);
  error.message = message;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request_id;
  frame.body_case = IREED__FRAME__BODY_ERROR;
  frame.error = &error;
  return ireed_frame_encode(&frame, IREED_FRAME_ABSOLUTE_MAX_SIZE, allocator,
                            out_data, out_size);
}

const char* ireed_body_name(Ireed__Frame__BodyCase body_case) {
  switch (body_case) {
    case IREED__FRAME__BODY__NOT_SET:
      return "an empty frame";
    case IREED__FRAME__BODY_HELLO:
      return "Hello";
    case IREED__FRAME__BODY_ERROR:
      return "Error";
    case IREED__FRAME__BODY_LOAD_MODEL:
      return "LoadModelRequest";
    case IREED__FRAME__BODY_LOAD_MODEL_REPLY:
      return "LoadModelReply";
    case IREED__FRAME__BODY_UNLOAD_MODEL:
      return "UnloadModelRequest";
    case IREED__FRAME__BODY_UNLOAD_MODEL_REPLY:
      return "UnloadModelReply";
    case IREED__FRAME__BODY_LIST_MODELS:
      return "ListModelsRequest";
    case IREED__FRAME__BODY_LIST_MODELS_REPLY:
      return "ListModelsReply";
    case IREED__FRAME__BODY_REGISTER_SHM:
      return "RegisterShmRequest";
    case IREED__FRAME__BODY_REGISTER_SHM_REPLY:
      return "RegisterShmReply";
    case IREED__FRAME__BODY_UNREGISTER_SHM:
      return "UnregisterShmRequest";
    case IREED__FRAME__BODY_UNREGISTER_SHM_REPLY:
      return "UnregisterShmReply";
    case IREED__FRAME__BODY_INVOKE:
      return "InvokeRequest";
    case IREED__FRAME__BODY_INVOKE_REPLY:
      return "InvokeReply";
    case IREED__FRAME__BODY_STATUS:
      return "StatusRequest";
    case IREED__FRAME__BODY_STATUS_REPLY:
      return "StatusReply";
    case IREED__FRAME__BODY_STATS:
      return "StatsRequest";
    case IREED__FRAME__BODY_STATS_REPLY:
      return "StatsReply";
    case IREED__FRAME__BODY_RELOAD:
      return "ReloadRequest";
    case IREED__FRAME__BODY_RELOAD_REPLY:
      return "ReloadReply";
    case IREED__FRAME__BODY_ATTACH_RING:
      return "AttachRingRequest";
    case IREED__FRAME__BODY_ATTACH_RING_REPLY:
      return "AttachRingReply";
    default:
      return "an unknown body";
  }
}
