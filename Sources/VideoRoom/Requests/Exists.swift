import JanusAPI

/// `exists`: whether a room number is in use.
extension VideoRoomPlugin {
    func exists(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        let id = try request.room()
        return ["videoroom": "success", "room": JSON(id), "exists": .bool(rooms.contains(id))]
    }
}
