"""The protocol in Python: decode server frames, encode client messages, refuse bad input."""

from __future__ import annotations

# --8<-- [start:codec]
import lasersell_sync as ls

frame = '{"type":"pnl_update","position_id":7,"profit_units":-1500,"proceeds_units":98500,"server_time_ms":1706}'
message = ls.proto.decode_server(frame)  # str or bytes, straight from the socket
assert isinstance(message, ls.PnlUpdate)
assert message.profit_units == -1500
assert message.token_price_quote is None  # an optional field the frame left out

text = ls.proto.encode_client(ls.proto.ClosePosition(position_id=message.position_id))
assert text == '{"type":"close_position","position_id":7}'  # compact, "type" first, no nulls

future = ls.proto.decode_server('{"type":"configured","ok":true}')  # a type this release does not know
assert isinstance(future, ls.UnknownMessage)
assert future.fields == {"ok": True}

try:
    ls.proto.decode_server(
        '{"type":"pnl_update","position_id":"7","profit_units":1,"proceeds_units":1,"server_time_ms":1}'
    )
except ls.ProtocolError as error:
    print(error)  # invalid pnl_update message: field 'position_id': expected an integer (u64), got string '7'
    print(error.message_type, error.field)  # pnl_update position_id

try:
    ls.proto.ensure_exit_condition(ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=0), deadline_timeout_sec=0)
except ls.InvalidStrategyError as error:
    print(error)  # at least one of ... must be set (> 0)
# --8<-- [end:codec]
