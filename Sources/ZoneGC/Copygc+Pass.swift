import Synchronization
public import ZoneAlloc

extension Copygc: CopygcTrigger {
    /// A bucket copygc may evacuate, as the policy ranked it.
    struct Candidate: Sendable {
        var bucket: BucketIndex
        var generation: BucketGeneration
        /// Live dirty sectors (the allocator's count).
        var dirty: Int
    }

    // MARK: - Triggers

    /// Runs one pass now, whatever the thresholds and the backoff say (a caller-requested pass).
    /// It aims to bring free buckets up to ``CopygcConfiguration/stopAtFreeBuckets`` (at least
    /// one bucket's worth of dead space).
    ///
    /// - Parameters:
    ///   - maxVictims: evacuate at most this many buckets (nil: the configuration's
    ///     ``CopygcConfiguration/maxVictimsPerPass``; a larger value is capped by it).
    ///   - progress: called on this thread after each group of victims is evacuated, with no
    ///     lock held.
    /// - Returns: what the pass did; ``PassReport/Outcome/nothingToFree(reason:)`` when there
    ///   is nothing to gain, ``PassReport/Outcome/busy`` when another pass is running.
    /// - Throws: ``GCError``: `.allocation` when copygc could not get space it had counted on,
    ///   `.device` when reading, writing or flushing failed, `.owner` when an owner could not
    ///   commit. Work done before the error is kept (moved data stays moved; old copies are
    ///   released by a later pass).
    @discardableResult
    public func collect(
        maxVictims: Int? = nil,
        progress: ((PassProgress) -> Void)? = nil
    ) throws(GCError) -> PassReport {
        precondition(maxVictims.map { $0 >= 1 } ?? true, "a copygc pass needs room for at least one victim")
        let free = allocator.availableBuckets(for: .normal)
        return try pass(
            trigger: .requested,
            targetBuckets: max(1, configuration.stopAtFreeBuckets - free),
            maxVictims: maxVictims,
            progress: progress
        )
    }

    /// The background trigger: if free buckets are below the start threshold (or copygc is
    /// already collecting and they are below the stop threshold), runs passes until they reach
    /// the stop threshold, a pass frees nothing, or copygc is backing off. Without `force` it
    /// does nothing until ``CopygcConfiguration/checkIntervalSectors`` more user sectors were
    /// recorded since the last evaluation, so writers can call it after every batch.
    /// ``start()`` runs this on a background thread; a single-threaded caller (the simulator)
    /// calls it between writes.
    ///
    /// - Parameter force: evaluate now regardless of the check interval.
    /// - Returns: the passes run (empty when none was needed).
    /// - Throws: ``GCError`` from a pass (see ``collect()``).
    @discardableResult
    public func collectIfNeeded(force: Bool = false) throws(GCError) -> [PassReport] {
        let interval = UInt64(configuration.checkIntervalSectors ?? max(1, bucketSectors / 4))
        if !force {
            let due = state.withLock { $0.writeClock >= $0.nextCheck }
            guard due else { return [] }
        }
        var reports: [PassReport] = []
        while true {
            let free = allocator.availableBuckets(for: .normal)
            let target: Int? = state.withLock { state in
                state.nextCheck = state.writeClock + interval
                if free < configuration.startBelowFreeBuckets { state.active = true }
                if free >= configuration.stopAtFreeBuckets { state.active = false }
                guard state.active else { return nil }
                if let until = state.backoffUntil, state.activity < until {
                    state.statistics.backoffs += 1
                    return nil
                }
                return configuration.stopAtFreeBuckets - free
            }
            guard let target else { break }
            let report = try pass(trigger: .background, targetBuckets: target)
            reports.append(report)
            guard report.outcome == .evacuated, report.bucketsFreed > 0 else { break }
        }
        return reports
    }

    /// The allocator's foreground kick: an allocation is waiting for a free bucket. Wakes the
    /// background worker; without one (``start()`` not called) runs a pass on the calling thread,
    /// unless copygc is backing off or a pass is already running. Errors of such a pass are
    /// kept in ``lastError``.
    ///
    /// - Parameter reason: why the allocation waits.
    public func kickCopygc(reason: String) {
        let backingOff = state.withLock { state -> Bool in
            state.statistics.kicks += 1
            guard let until = state.backoffUntil, state.activity < until else { return false }
            state.statistics.backoffs += 1
            return true
        }
        if worker.isRunning {
            worker.kick()
            return
        }
        guard !backingOff else { return }
        let free = allocator.availableBuckets(for: .normal)
        _ = try? pass(trigger: .kick, targetBuckets: max(1, configuration.stopAtFreeBuckets - free))
    }

    // MARK: - A pass

    /// Runs one pass: releases old copies still pending, then evacuates victims until
    /// `targetBuckets` buckets' worth of dead space was reclaimed, the pass's victim limit is
    /// reached (the configuration's, or `maxVictims` when smaller), or there is no room to move
    /// more. Records statistics and the backoff.
    func pass(
        trigger: PassReport.Trigger,
        targetBuckets: Int,
        maxVictims: Int? = nil,
        progress: ((PassProgress) -> Void)? = nil
    ) throws(GCError) -> PassReport {
        let clock = ContinuousClock()
        let started = clock.now
        var report = PassReport(trigger: trigger, outcome: .evacuated)
        let claimed = state.withLock { state -> Bool in
            guard !state.passInProgress else { return false }
            state.passInProgress = true
            return true
        }
        guard claimed else {
            report.outcome = .busy
            return report
        }
        let before = allocator.zoneOperationCounts()
        report.freeBucketsBefore = allocator.availableBuckets(for: .normal)
        var failure: GCError?
        do throws(GCError) {
            try releasePending()
            try evacuateVictims(
                targetBuckets: targetBuckets,
                victimLimit: min(configuration.maxVictimsPerPass, maxVictims ?? .max),
                report: &report,
                progress: progress
            )
        } catch {
            failure = error
        }
        let after = allocator.zoneOperationCounts()
        report.freeBucketsAfter = allocator.availableBuckets(for: .normal)
        report.duration = started.duration(to: clock.now)
        let backoff = UInt64(configuration.backoffSectors ?? bucketSectors)
        state.withLock { state in
            state.passInProgress = false
            state.statistics.passes += 1
            state.statistics.zonesReset += after.resets - before.resets
            state.statistics.zonesFinished += after.finishes - before.finishes
            state.statistics.timeSpent += report.duration
            if report.foundNothing {
                state.statistics.passesWithNothingToDo += 1
                state.backoffUntil = state.activity + backoff
            } else if report.bucketsFreed > 0 || report.sectorsMoved > 0 {
                state.backoffUntil = nil
            }
            if let failure { state.lastError = failure }
        }
        if let failure { throw failure }
        return report
    }

    /// Picks victims and evacuates them in groups that fit the free buckets copygc may use.
    private func evacuateVictims(
        targetBuckets: Int,
        victimLimit: Int,
        report: inout PassReport,
        progress: ((PassProgress) -> Void)?
    ) throws(GCError) {
        let candidates = victimCandidates(limit: victimLimit)
        guard !candidates.isEmpty else {
            report.outcome = .nothingToFree(
                reason: "no bucket outside the open ones holds dead data beside its live data; nothing to reclaim "
                    + "until data is overwritten or deleted"
            )
            return
        }
        let deadInCandidates = candidates.reduce(0) { $0 + bucketSectors - $1.dirty }
        if deadInCandidates < bucketSectors {
            let total = totalReclaimableSectors()
            if total < bucketSectors {
                report.outcome = .nothingToFree(
                    reason: "only \(total) dead sectors in fragmented buckets, less than one bucket (\(bucketSectors) "
                        + "sectors): moving their live data would free no bucket"
                )
                return
            }
        }
        let goal = max(1, targetBuckets) * bucketSectors
        var gained = 0
        var next = 0
        while next < candidates.count, gained < goal {
            let room = allocator.availableBuckets(for: .copygc)
            var group: [VictimPlan] = []
            var classSectors = Array(repeating: 0, count: configuration.copygcHints.count)
            var refusal = ""
            while next < candidates.count, gained < goal {
                let plan = self.plan(candidates[next])
                var trial = classSectors
                for move in plan.moves { trial[Int(move.classIndex)] += Int(move.sectors) }
                let needed = trial.reduce(0) { $0 + ($1 + bucketSectors - 1) / bucketSectors }
                if needed > room {
                    refusal =
                        "no free bucket to evacuate \(plan.bucket) into: it needs \(needed) bucket(s), \(room) are "
                        + "free at the copygc watermark"
                    break
                }
                classSectors = trial
                group.append(plan)
                gained += bucketSectors - candidates[next].dirty
                next += 1
            }
            guard !group.isEmpty else {
                if report.victims.isEmpty { report.outcome = .nothingToFree(reason: refusal) }
                break
            }
            do throws(GCError) {
                try evacuate(group, report: &report)
            } catch {
                // Writers may take every free bucket but the held-back ones while a group is
                // moved, so the buckets it was planned with can be gone by the time copygc
                // reserves them. What was moved stays moved and the victims not yet emptied
                // wait for the next pass; only a pass that achieved nothing reports a failure.
                guard Self.lostBucketsToWriters(error), report.sectorsMoved > 0 || report.bucketsFreed > 0 else {
                    throw error
                }
                report.stoppedEarly = error.message
                break
            }
            progress?(
                PassProgress(
                    victimsEvacuated: report.victims.count,
                    candidates: candidates.count,
                    sectorsMoved: report.sectorsMoved
                )
            )
        }
    }

    /// Whether `error` is copygc failing to reserve a bucket (none free, or none in time).
    static func lostBucketsToWriters(_ error: GCError) -> Bool {
        guard error.code == .allocation, let cause = error.allocationError else { return false }
        return cause.code == .noSpace || cause.code == .timedOut
    }

    // MARK: - Victim selection

    /// Victims in policy order, at most `limit`: buckets with dirty data and dead space that are
    /// not open.
    func victimCandidates(limit: Int) -> [Candidate] {
        switch configuration.policy.selection {
        case .greedy:
            // bcachefs's fragmentation LRU: the allocator's index, emptiest first.
            return allocator.fragmentedBuckets(limit: limit).compactMap { bucket in
                let dirty = allocator.liveSectors(of: bucket).dirty
                guard dirty < bucketSectors else { return nil }
                return Candidate(bucket: bucket, generation: allocator.generation(of: bucket), dirty: dirty)
            }
        case .costBenefit:
            // Sprite LFS: benefit / cost = (1 − u) · age / (1 + u), highest first; age = write
            // clock since the bucket was opened (see CopygcPolicy.Selection.costBenefit).
            let scored = state.withLock { state -> [(score: Double, zone: Int)] in
                let now = Double(state.writeClock)
                let capacity = Double(bucketSectors)
                var scored: [(score: Double, zone: Int)] = []
                for (zone, record) in state.index.buckets.enumerated()
                where record.dirtySectors > 0 && Int(record.dirtySectors) < bucketSectors {
                    let u = Double(record.dirtySectors) / capacity
                    let age = now - Double(record.openedAt)
                    scored.append(((1 - u) * age / (1 + u), zone))
                }
                return scored
            }
            var result: [Candidate] = []
            for entry in scored.sorted(by: { $0.score != $1.score ? $0.score > $1.score : $0.zone < $1.zone }) {
                let bucket = BucketIndex(entry.zone)
                guard allocator.state(of: bucket) == .dirty else { continue }
                let dirty = allocator.liveSectors(of: bucket).dirty
                guard dirty < bucketSectors else { continue }
                result.append(Candidate(bucket: bucket, generation: allocator.generation(of: bucket), dirty: dirty))
                if result.count == limit { break }
            }
            return result
        }
    }

    /// Dead sectors in every bucket copygc could evacuate (the slow check behind "nothing to
    /// free").
    func totalReclaimableSectors() -> Int {
        allocator.fragmentedBuckets(limit: Int.max).reduce(0) { total, bucket in
            total + bucketSectors - allocator.liveSectors(of: bucket).dirty
        }
    }
}
