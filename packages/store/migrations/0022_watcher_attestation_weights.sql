-- Attestation duties weigh by effective balance (0x02 validators up to 2048 ETH): the weight of a
-- duty is the validator's effective balance in units of 32 ETH, and the correctness, delay and
-- effectiveness sums are weighted. Epochs stored before: every duty weighed 1 (32 ETH validators).
ALTER TABLE watcher_network_epochs ADD COLUMN att_weight_assigned float8;
ALTER TABLE watcher_network_epochs ADD COLUMN att_weight_included float8;
UPDATE watcher_network_epochs SET att_weight_assigned = att_assigned, att_weight_included = att_included;
ALTER TABLE watcher_network_epochs ALTER COLUMN att_weight_assigned SET NOT NULL;
ALTER TABLE watcher_network_epochs ALTER COLUMN att_weight_included SET NOT NULL;
ALTER TABLE watcher_operator_epochs ADD COLUMN att_weight_assigned float8;
ALTER TABLE watcher_operator_epochs ADD COLUMN att_weight_included float8;
UPDATE watcher_operator_epochs SET att_weight_assigned = att_assigned, att_weight_included = att_included;
ALTER TABLE watcher_operator_epochs ALTER COLUMN att_weight_assigned SET NOT NULL;
ALTER TABLE watcher_operator_epochs ALTER COLUMN att_weight_included SET NOT NULL;
